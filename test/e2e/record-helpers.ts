/** What the recorder's end-to-end tests check alike. */
import path from 'node:path';
import { expect } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import type { ExchangeId } from '../../src/exchanges/registry.ts';
import type { SimTrade } from '../../src/sim/market.ts';
import { readManifest } from '../../src/storage/run.ts';
import { runCli, sleep, startCli, type RunningCli } from '../helpers.ts';

/**
 * A simulator serving these exchanges (in process) and `tapedeck record` of them from it into
 * `out`, with 1s and 10s windows; resolves once the recorder says it is recording.
 */
export async function recordFromSimulator(o: {
  exchanges: readonly ExchangeId[]; seed: number; meanGapMs: number; symbols: string; out: string; duration: string;
  /** The environment of the recorder (say, an exchange's API key). */
  env?: Record<string, string>;
}): Promise<{ sim: Simulator; rec: RunningCli }> {
  const sim = await startSimulator({ exchanges: [...o.exchanges], seed: o.seed, meanGapMs: o.meanGapMs });
  const rec = startCli([
    'record', '--exchanges', o.exchanges.join(','), '--symbols', o.symbols, '--out', o.out, '--duration', o.duration,
    ...o.exchanges.flatMap((x) => ['--endpoint', `${x}=${sim.wsUrl(x)}`]), '--windows', '1s,10s', '--metrics-port', '0',
  ], o.env);
  await rec.waitFor(new RegExp(`recording ${o.exchanges.join(', ')}`));
  return { sim, rec };
}

/**
 * `recordFromSimulator` of one exchange, which the simulator shuts down (its own notice,
 * then a close) `afterMs` in and refuses for `refuseMs`; resolves with the simulator and the
 * live outputs' folder once the recorder has exited 0.
 */
export async function recordThroughOutage(o: Parameters<typeof recordFromSimulator>[0] & { afterMs: number; refuseMs: number }): Promise<{ sim: Simulator; outDir: string }> {
  const { sim, rec } = await recordFromSimulator(o);
  await sleep(o.afterMs);
  for (const exchange of o.exchanges) {
    sim.control({ action: 'refuse', exchange, ms: o.refuseMs });
    sim.control({ action: 'disconnect', exchange, mode: 'shutdown' });
  }
  expect(await rec.exited, rec.stderr).toBe(0);
  return { sim, outDir: /live outputs → (\S+):/.exec(rec.stdout)![1]! };
}

/**
 * Replays a recording's archive (`dir/raw`) with these windows into `dir/replay`, and checks
 * that every table's digest is the live run's (`outDir`) and that `verify` says identical.
 */
export function expectReplayIdentical(dir: string, outDir: string, windows: string): void {
  const rep = runCli(['replay', '--from', path.join(dir, 'raw'), '--speed', 'max', '--windows', windows, '--out', path.join(dir, 'replay')]);
  expect(rep.code, rep.stderr).toBe(0);
  const live = readManifest(outDir);
  const replayed = readManifest(path.join(dir, 'replay'));
  for (const t of Object.keys(live.tables)) expect(replayed.tables[t]!.sha256, t).toBe(live.tables[t]!.sha256);
  const v = runCli(['verify', '--recording', path.join(dir, 'raw'), '--live', outDir]);
  expect(v.code, v.stderr).toBe(0);
  expect(v.stdout).toContain('identical');
}

/**
 * Every complete candle (of the 1 s and 10 s windows) holds exactly the simulator's trades of
 * its window: count, first and last id, volume, high and low. (Not open and close: a
 * Bitstamp REST row's time is in whole seconds, so its order within a window is not the feed's.)
 */
export function expectCandlesOfTrades(candles: Record<string, unknown>[], made: readonly SimTrade[]): void {
  const trades = new Map<string, SimTrade[]>();
  for (const t of made) {
    for (const [name, ms] of [['1s', 1_000], ['10s', 10_000]] as const) {
      const key = `${t.symbol} ${name} ${Math.floor(t.tsUs / 1000 / ms) * ms}`;
      trades.set(key, [...(trades.get(key) ?? []), t]);
    }
  }
  for (const c of candles) {
    const key = `${String(c.symbol)} ${String(c.interval)} ${String(c.window_start)}`;
    const ts = trades.get(key) ?? [];
    expect(Number(c.trades), `${key}: trades`).toBe(ts.length);
    expect(c.first_trade_id, key).toBe(BigInt(ts[0]!.tradeId));
    expect(c.last_trade_id, key).toBe(BigInt(ts.at(-1)!.tradeId));
    expect(c.volume as number, `${key}: volume`).toBeCloseTo(ts.reduce((s, t) => s + t.size, 0), 9);
    expect([c.high, c.low], `${key}: high, low`).toEqual([Math.max(...ts.map((t) => t.price)), Math.min(...ts.map((t) => t.price))]);
  }
}
