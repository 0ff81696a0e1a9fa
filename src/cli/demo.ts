import fs from 'node:fs';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { tableSummary } from '../storage/run.ts';
import { replay } from '../../replayer/replay.ts';
import { DEFAULT_CONFIG } from '../engine/config.ts';
import { parseUserTime } from '../log/time.ts';
import { simulateMarket, type SimTrade } from '../sim/market.ts';
import { simulateSession } from '../sim/session.ts';
import { ArchiveWriter } from '../storage/archive.ts';
import { readParquet } from '../storage/parquet.ts';
import { userInput } from './errors.ts';

interface Args { out: string; minutes: number; seed: number; start: string }

/** Writes a simulated session as a raw archive; returns the number of events. */
export function writeSimulatedArchive(dir: string, o: { seed: number; startMs: number; minutes: number; faults?: boolean }): number {
  fs.rmSync(dir, { recursive: true, force: true });
  const session = `sim-${o.seed}-${new Date(o.startMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  const base = { session, seed: o.seed, startMs: o.startMs, durationMs: o.minutes * 60_000, exchanges: ['binance', 'coinbase'] };
  // Fault drills, so the data-quality views have something to show: three lost trade frames
  // (gaps no backfill fills), a truncated frame, and a message type nobody knows (non-ASCII).
  const trades = o.faults ? [...simulateMarket(base)].filter((e): e is SimTrade => e.kind === 'trade') : [];
  const durationMs = o.minutes * 60_000;
  const events = simulateSession({
    ...base,
    ...(o.faults ? {
      dropTradeIds: new Set([0.25, 0.5, 0.75].map((f) => trades[Math.floor(trades.length * f)]!.tradeId)),
      extraFrames: [
        { atMs: durationMs * 0.4, exchange: 'binance', payload: '{"stream":"btcusdt@trade","data":{"e":"trade","E":17' },
        { atMs: durationMs * 0.6, exchange: 'coinbase', payload: '{"type":"status","note":"Wartung geplant – Zürich ✓"}' },
        { atMs: durationMs * 0.65, exchange: 'coinbase', payload: '{"type":"brand_new","text":"café ☕"}' },
      ],
    } : {}),
  });
  const w = new ArchiveWriter(dir, session);
  for (const ev of events) w.write(ev);
  w.close();
  return events.length;
}

export const demoCommand: CommandModule<object, Args> = {
  command: 'demo',
  describe: 'offline demo: a simulated Binance + Coinbase session, archived and replayed',
  builder: (y) => y
    .option('out', { type: 'string', default: 'data/demo', describe: 'where the demo archive and outputs go' })
    .option('minutes', { type: 'number', default: 15, describe: 'simulated minutes' })
    .option('seed', { type: 'number', default: 42 })
    .option('start', { type: 'string', default: '2024-08-09T00:00:00Z', describe: 'simulated start time' }) as never,
  handler: async (a) => {
    const startMs = Number(userInput(() => parseUserTime(a.start)) / 1_000_000n);
    if (!(a.minutes > 0 && a.minutes <= 24 * 60)) throw new Error('bad --minutes (1 to 1440)');
    const raw = path.join(a.out, 'raw');
    const out = path.join(a.out, 'out');
    const n = writeSimulatedArchive(raw, { seed: a.seed, startMs, minutes: a.minutes, faults: true });
    process.stdout.write(`simulated ${a.minutes} min of binance + coinbase (BTC, ETH), seed ${a.seed}, with fault drills (3 lost trades, a truncated frame, unknown messages): ${n} events → ${raw}\n`);
    const { manifest, elapsedMs } = await replay({ from: raw, out, speed: 'max', config: { ...DEFAULT_CONFIG, intervalsMs: [10_000, 60_000, 300_000] } });
    const tables = tableSummary(manifest);
    process.stdout.write(`replayed ${manifest.events} events in ${(elapsedMs / 1000).toFixed(2)} s → ${out}: ${tables}\n\n`);
    const candles = (await readParquet(path.join(out, 'candles.parquet'))).filter((c) => c.interval === '1m');
    const last = new Map<string, Record<string, unknown>>();
    for (const c of candles) last.set(`${c.exchange} ${c.symbol}`, c);
    process.stdout.write('last 1m candle per market:\n');
    for (const [k, c] of [...last].sort()) {
      const f = (x: unknown): string => Number(x).toFixed(2);
      process.stdout.write(`  ${k.padEnd(20)} ${new Date(Number(c.window_start)).toISOString().slice(11, 16)}  O ${f(c.open)}  H ${f(c.high)}  L ${f(c.low)}  C ${f(c.close)}  trades ${c.trades}\n`);
    }
    const arb = (await readParquet(path.join(out, 'arbitrage.parquet'))).filter((r) => r.event === 'end');
    const best = arb.reduce<Record<string, unknown> | undefined>((b, r) => (b === undefined || Number(r.peak_net_edge_bps) > Number(b.peak_net_edge_bps) ? r : b), undefined);
    process.stdout.write(`\narbitrage opportunities: ${arb.length}`);
    if (best) process.stdout.write(`; best: buy ${best.asset} on ${best.buy_exchange}, sell on ${best.sell_exchange}, net ${Number(best.peak_net_edge_bps).toFixed(1)} bps for ${Number(best.duration_ms).toFixed(0)} ms`);
    process.stdout.write(`\nmanifest: ${path.join(out, 'manifest.json')}\n`);
  },
};
