/**
 * The live console view on a TTY: how long the recorder has run, per connection its state and
 * frame rate, per market the last price, the forming candle of the shortest window, the last
 * RSI (and why it is still `-`), and the best arbitrage edge seen. Redrawn once a second.
 */
import type { EngineConfig } from '../engine/config.ts';
import { intervalName } from '../engine/config.ts';
import type { OutputSink, OutputTables, TableName } from '../engine/rows.ts';
import type { LogEvent } from '../log/event.ts';
import { makeDecoder, type Decoder } from '../exchanges/registry.ts';

interface Market { last: number; o: number; h: number; l: number; windowStart: number; rsi: number | null; trades: number }
interface Connection { state: 'open' | 'closed'; frames: number; framesAtLastDraw: number; rate: number }

/** The view's state and its text at a given time; `liveView` draws it. */
export function liveState(cfg: EngineConfig, startMs: number) {
  const markets = new Map<string, Market>();
  const connections = new Map<string, Connection>();
  const decoders = new Map<string, Decoder | undefined>();
  const lenMs = cfg.intervalsMs[0]!;
  const rsiCol = `rsi_${cfg.rsiPeriod}`;
  let bestEdge: { asset: string; route: string; bps: number } | undefined;
  let lastDrawMs = startMs;
  let lines: string[] = [];

  const connection = (ev: LogEvent): Connection => {
    const key = `${ev.exchange}/${ev.conn}`;
    let c = connections.get(key);
    if (c === undefined) connections.set(key, (c = { state: 'open', frames: 0, framesAtLastDraw: 0, rate: 0 }));
    return c;
  };

  return {
    say(line: string) {
      lines.push(line);
      if (lines.length > 50) lines = lines.slice(-20);
    },
    /** The view decodes on its own decoders: it must not disturb the engine's state. */
    tap(ev: LogEvent) {
      if (ev.kind === 'open' || ev.kind === 'close') connection(ev).state = ev.kind === 'open' ? 'open' : 'closed';
      if (ev.kind !== 'frame') return;
      connection(ev).frames++;
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
    /** The screen at `nowMs`; frame rates are over the time since the previous call. */
    text(nowMs: number): string {
      const seconds = Math.max((nowMs - lastDrawMs) / 1000, 1e-3);
      for (const c of connections.values()) {
        c.rate = (c.frames - c.framesAtLastDraw) / seconds;
        c.framesAtLastDraw = c.frames;
      }
      lastDrawMs = nowMs;
      const conns = [...connections.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, c]) =>
        ` ${k.padEnd(24)} ${c.state.padEnd(6)} ${c.rate.toFixed(1).padStart(7)} frames/s  ${String(c.frames).padStart(9)} frames`);
      const rows = [...markets.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, m]) =>
        ` ${k.padEnd(22)} ${m.last.toFixed(2).padStart(12)}   ${intervalName(lenMs)} O ${m.o.toFixed(2)} H ${m.h.toFixed(2)} L ${m.l.toFixed(2)}  n ${String(m.trades).padStart(4)}   RSI ${m.rsi === null ? '   -' : m.rsi.toFixed(1).padStart(5)}`);
      // Wilder's RSI(p) is seeded with p changes, so its first value follows p + 1 closed candles.
      const rsiHint = [...markets.values()].some((m) => m.rsi === null)
        ? `\n RSI -: not yet ${cfg.rsiPeriod + 1} closed ${intervalName(lenMs)} candles (RSI ${cfg.rsiPeriod} needs them; --rsi, --windows)` : '';
      const edge = bestEdge ? `best arbitrage: ${bestEdge.asset} ${bestEdge.route} ${bestEdge.bps.toFixed(1)} bps net` : 'best arbitrage: none yet';
      const now = new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z');
      return ` tapedeck record — ${now}, running ${elapsed(nowMs - startMs)}\n\n${conns.join('\n')}\n\n${rows.join('\n')}${rsiHint}\n\n ${edge}\n\n${lines.slice(-6).join('\n')}\n`;
    },
  };
}

function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

export function liveView(cfg: EngineConfig) {
  const state = liveState(cfg, Date.now());
  const draw = (): void => {
    process.stdout.write(`\x1b[2J\x1b[H${state.text(Date.now())}`);
  };
  const timer = setInterval(draw, 1000);
  return {
    say: state.say,
    tap: state.tap,
    sink: state.sink,
    stop() {
      clearInterval(timer);
      draw();
    },
  };
}
