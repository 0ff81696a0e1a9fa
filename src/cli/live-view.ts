/**
 * The live console view on a TTY: per market the last price, the forming candle of the
 * shortest window, the last RSI, and the best arbitrage edge seen. Redrawn once a second.
 */
import type { EngineConfig } from '../engine/config.ts';
import { intervalName } from '../engine/config.ts';
import type { OutputSink, OutputTables, TableName } from '../engine/rows.ts';
import type { LogEvent } from '../log/event.ts';
import { makeDecoder, type Decoder } from '../exchanges/registry.ts';

interface Market { last: number; o: number; h: number; l: number; windowStart: number; rsi: number | null; trades: number }

export function liveView(cfg: EngineConfig) {
  const markets = new Map<string, Market>();
  const decoders = new Map<string, Decoder | undefined>();
  const lenMs = cfg.intervalsMs[0]!;
  const rsiCol = `rsi_${cfg.rsiPeriod}`;
  let bestEdge: { asset: string; route: string; bps: number } | undefined;
  let lines: string[] = [];
  const draw = (): void => {
    const rows = [...markets.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, m]) =>
      `${k.padEnd(22)} ${m.last.toFixed(2).padStart(12)}   ${intervalName(lenMs)} O ${m.o.toFixed(2)} H ${m.h.toFixed(2)} L ${m.l.toFixed(2)}  n ${String(m.trades).padStart(4)}   RSI ${m.rsi === null ? '   -' : m.rsi.toFixed(1).padStart(5)}`);
    const edge = bestEdge ? `best arbitrage: ${bestEdge.asset} ${bestEdge.route} ${bestEdge.bps.toFixed(1)} bps net` : 'best arbitrage: none yet';
    process.stdout.write(`\x1b[2J\x1b[H tapedeck record — ${new Date().toISOString()}\n\n${rows.join('\n')}\n\n ${edge}\n\n${lines.slice(-6).join('\n')}\n`);
  };
  const timer = setInterval(draw, 1000);
  return {
    say(line: string) {
      lines.push(line);
      if (lines.length > 50) lines = lines.slice(-20);
    },
    /** The view decodes on its own decoders: it must not disturb the engine's state. */
    tap(ev: LogEvent) {
      if (ev.kind !== 'frame') return;
      if (!decoders.has(ev.exchange)) decoders.set(ev.exchange, makeDecoder(ev.exchange));
      for (const m of decoders.get(ev.exchange)?.decode(ev) ?? []) {
        if (m.type !== 'trade') continue;
        const key = `${m.exchange} ${m.symbol}`;
        const ws = Math.floor(m.tsUs / 1000 / lenMs) * lenMs;
        const cur = markets.get(key);
        if (cur === undefined || cur.windowStart !== ws) markets.set(key, { last: m.price, o: m.price, h: m.price, l: m.price, windowStart: ws, rsi: cur?.rsi ?? null, trades: 1 });
        else Object.assign(cur, { last: m.price, h: Math.max(cur.h, m.price), l: Math.min(cur.l, m.price), trades: cur.trades + 1 });
      }
    },
    sink: {
      emit<T extends TableName>(table: T, row: OutputTables[T][number]) {
        if (table === 'indicators') {
          const r = row as OutputTables['indicators'][number];
          const m = markets.get(`${r.exchange} ${r.symbol}`);
          if (m && r.interval === intervalName(lenMs)) m.rsi = r.values[rsiCol] ?? null;
        } else if (table === 'arbitrage') {
          const r = row as OutputTables['arbitrage'][number];
          if (r.event === 'start' && (bestEdge === undefined || r.net_edge_bps > bestEdge.bps)) {
            bestEdge = { asset: r.asset, route: `buy ${r.buy_exchange} → sell ${r.sell_exchange}`, bps: r.net_edge_bps };
          }
        }
      },
    } satisfies OutputSink,
    stop() {
      clearInterval(timer);
      draw();
    },
  };
}
