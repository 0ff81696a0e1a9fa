import fs from 'node:fs';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { tableSummary } from '../storage/run.ts';
import { replay } from '../../replayer/replay.ts';
import { DEFAULT_CONFIG } from '../engine/config.ts';
import { parseUserTime } from '../log/time.ts';
import { simulateMarket, type SimOptions } from '../sim/market.ts';
import { streamSession, type SimSessionOptions } from '../sim/session.ts';
import { ArchiveWriter } from '../storage/archive.ts';
import { readParquet } from '../storage/parquet.ts';
import { SIMULATED } from '../exchanges/registry.ts';
import { MAX_EXCHANGE_US, MIN_EXCHANGE_US } from '../exchanges/common.ts';
import { UserError, userInput } from './errors.ts';
import { parseExchanges } from './record.ts';
import { checkOutputFolder } from '../storage/out-folder.ts';

interface Args { out: string; minutes: number; seed: number; start: string; replay: boolean; exchanges: string }

/** The exchanges the demo simulates unless told otherwise. */
export const DEMO_EXCHANGES: readonly string[] = ['binance', 'coinbase'];

/** The longest demo session: a month (31 days), 72M events. */
export const MAX_DEMO_MINUTES = 31 * 24 * 60;

export interface GenerateOptions {
  readonly seed: number;
  readonly startMs: number;
  readonly minutes: number;
  /** The simulated exchanges (default Binance and Coinbase, the demo's). */
  readonly exchanges?: readonly string[];
  /** Fault drills: three lost trades, a truncated frame, unknown messages (the demo has them). */
  readonly faults?: boolean;
  readonly maxRowsPerFile?: number;
}

/**
 * Writes a simulated session as a raw archive, streaming: events go to the ArchiveWriter as
 * they are generated, so memory stays flat at any length (a month is ~72M events). Returns
 * the number of events. The events are those of `simulateSession` for the same options.
 */
export function writeSimulatedArchive(dir: string, o: GenerateOptions): number {
  const other = notSimulated(dir);
  if (other !== undefined) {
    const what = other === dir ? `${dir} is a file, not an earlier demo's archive folder` : `${dir} holds ${other}, not an earlier demo's file`;
    throw new UserError(`${what}: a demo replaces its archive folder whole, so it does not write there (give another --out)`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const session = `sim-${o.seed}-${new Date(o.startMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  const durationMs = o.minutes * 60_000;
  const base = { session, seed: o.seed, startMs: o.startMs, durationMs, exchanges: [...(o.exchanges ?? DEMO_EXCHANGES)] };
  const w = new ArchiveWriter(dir, session, o.maxRowsPerFile !== undefined ? { maxRows: o.maxRowsPerFile } : {});
  let n = 0;
  try {
    for (const ev of streamSession({ ...base, ...(o.faults ? faultDrills(base, durationMs) : {}) })) {
      w.write(ev);
      n++;
    }
    w.close();
  } catch (err) {
    w.abort();
    throw err;
  }
  return n;
}

/** A simulated session's archive file (`sim-<seed>-<start>-<seq>.parquet`, a seed below 0 too), or its temp file while written. */
const SIMULATED_FILE = /^\.?sim--?\d+-\d{8}T\d{6}Z-\d+\.parquet(\.\d+\.[0-9a-z]+\.tmp)?$/;

/**
 * The first thing in `dir` that an earlier demo did not write there (`dir` itself when it is
 * no folder), or undefined: a demo replaces the folder whole, and must never take a
 * recording with it (`demo --out data` where `record` wrote data/raw).
 */
function notSimulated(dir: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  if (!fs.statSync(dir).isDirectory()) return dir;
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isDirectory() && !SIMULATED_FILE.test(e.name)) return path.join(e.parentPath ?? e.path, e.name);
  }
  return undefined;
}

/**
 * Benchmarks and tests: a simulated archive of `minutes` (about 1,670 events a minute) in
 * `out`, without the demo's replay. Same as `tapedeck demo --no-replay --out <out>/..`.
 */
export function generateArchive(o: { minutes: number; seed?: number; out: string; startMs?: number; faults?: boolean }): { events: number; files: number } {
  const events = writeSimulatedArchive(o.out, { seed: o.seed ?? 42, startMs: o.startMs ?? Date.UTC(2024, 7, 9), minutes: o.minutes, faults: o.faults ?? true });
  return { events, files: listParquet(o.out).length };
}

function listParquet(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.parquet'));
}

/**
 * Three lost trade frames (gaps no backfill fills) at 25/50/75 % of the trades, a truncated
 * frame, and a message type nobody knows (non-ASCII). The trade ids are found by two passes
 * over the market (count, then pick), so no pass holds the market in memory.
 */
function faultDrills(base: SimOptions, durationMs: number): Pick<SimSessionOptions, 'dropTradeIds' | 'extraFrames'> {
  let trades = 0;
  for (const e of simulateMarket(base)) if (e.kind === 'trade') trades++;
  const at = [0.25, 0.5, 0.75].map((f) => Math.floor(trades * f));
  const ids = new Set<number>();
  let i = 0;
  for (const e of simulateMarket(base)) {
    if (e.kind !== 'trade') continue;
    if (at.includes(i)) ids.add(e.tradeId);
    if (++i > at[2]!) break;
  }
  const extraFrames = [
    { atMs: durationMs * 0.4, exchange: 'binance', payload: '{"stream":"btcusdt@trade","data":{"e":"trade","E":17' },
    { atMs: durationMs * 0.6, exchange: 'coinbase', payload: '{"type":"status","note":"Wartung geplant – Zürich ✓"}' },
    { atMs: durationMs * 0.65, exchange: 'coinbase', payload: '{"type":"brand_new","text":"café ☕"}' },
  ];
  // Each drill frame arrives on its exchange's connection: only where the session has one.
  return { dropTradeIds: ids, extraFrames: extraFrames.filter((f) => base.exchanges.includes(f.exchange)) };
}

export const demoCommand: CommandModule<object, Args> = {
  command: 'demo',
  describe: 'offline demo: a simulated Binance + Coinbase session (or the exchanges you name), archived and replayed',
  builder: (y) => y
    .option('out', { type: 'string', default: 'data/demo', describe: 'where the demo archive and outputs go' })
    .option('minutes', { type: 'number', default: 15, describe: 'simulated minutes' })
    .option('seed', { type: 'number', default: 42, describe: 'seed of the simulated market: the same seed gives the same session' })
    .option('start', { type: 'string', default: '2024-08-09T00:00:00Z', describe: 'simulated start time' })
    .option('exchanges', { type: 'string', default: DEMO_EXCHANGES.join(','), describe: `exchanges to simulate, any of ${SIMULATED.join(',')}` })
    .option('replay', { type: 'boolean', default: true, describe: 'replay the archive (--no-replay only writes it: for benchmarks)' }) as never,
  handler: async (a) => {
    const startMs = Number(userInput(() => parseUserTime(a.start)) / 1_000_000n);
    const exchanges = parseExchanges(a.exchanges, SIMULATED);
    if (!(a.minutes > 0 && a.minutes <= MAX_DEMO_MINUTES)) throw new UserError(`bad --minutes ${a.minutes} (above 0, at most ${MAX_DEMO_MINUTES}: a month)`);
    // Exchange times outside what the engine accepts would all be decode errors (src/exchanges/common.ts).
    if (!(startMs >= MIN_EXCHANGE_US / 1000 && startMs < MAX_EXCHANGE_US / 1000 - a.minutes * 60_000)) {
      throw new UserError(`bad --start ${a.start} (the simulated session must lie within 2010-01-01 and 2100-01-01 UTC, the exchange times the engine accepts)`);
    }
    if (!Number.isSafeInteger(a.seed)) throw new UserError(`bad --seed ${a.seed} (a whole number)`);
    checkOutputFolder(a.out);
    const raw = path.join(a.out, 'raw');
    const out = path.join(a.out, 'out');
    const n = writeSimulatedArchive(raw, { seed: a.seed, startMs, minutes: a.minutes, exchanges, faults: true });
    process.stdout.write(`simulated ${a.minutes} min of ${exchanges.join(' + ')} (BTC, ETH), seed ${a.seed}, with fault drills (3 lost trades, a truncated frame, unknown messages): ${n} events → ${raw}\n`);
    if (!a.replay) return;
    const { manifest, elapsedMs } = await replay({ from: raw, out, speed: 'max', config: { ...DEFAULT_CONFIG, intervalsMs: [10_000, 60_000, 300_000] } });
    const tables = tableSummary(manifest);
    process.stdout.write(`replayed ${manifest.events} events in ${(elapsedMs / 1000).toFixed(2)} s → ${out}: ${tables}\n\n`);
    const candles = (await readParquet(path.join(out, 'candles.parquet'))).filter((c) => c.interval === '1m');
    const last = new Map<string, Record<string, unknown>>();
    for (const c of candles) last.set(`${c.exchange} ${c.symbol}`, c);
    process.stdout.write('last 1m candle per market (window start, UTC):\n');
    for (const [k, c] of [...last].sort()) {
      const f = (x: unknown): string => Number(x).toFixed(2);
      const start = new Date(Number(c.window_start)).toISOString().replace('T', ' ').slice(0, 16);
      const cut = String(c.flags).split(',').includes('end') ? '  (cut short: the input ended inside this minute)' : '';
      process.stdout.write(`  ${k.padEnd(20)} ${start} UTC  O ${f(c.open)}  H ${f(c.high)}  L ${f(c.low)}  C ${f(c.close)}  trades ${c.trades}${cut}\n`);
    }
    const arb = (await readParquet(path.join(out, 'arbitrage.parquet'))).filter((r) => r.event === 'end');
    const best = arb.reduce<Record<string, unknown> | undefined>((b, r) => (b === undefined || Number(r.peak_net_edge_bps) > Number(b.peak_net_edge_bps) ? r : b), undefined);
    process.stdout.write(`\narbitrage opportunities: ${arb.length} (arbitrage.parquet has a start and an end row for each)`);
    if (best) process.stdout.write(`; best: buy ${best.asset} on ${best.buy_exchange}, sell on ${best.sell_exchange}, net ${Number(best.peak_net_edge_bps).toFixed(1)} bps for ${Number(best.duration_ms).toFixed(0)} ms`);
    process.stdout.write(`\nmanifest: ${path.join(out, 'manifest.json')}\n`);
  },
};
