/**
 * Restart backfill (issue 10 item 3): a new session on the same --out continues each
 * symbol's trade-id continuity from the last trade the archive holds, and backfills over
 * REST the trades made while no recorder ran, so the archive has no hole across a kill -9
 * and restart. (Whole *complete* candles across a restart also need the engine not to let a
 * REST response's receive time close the windows its historical trades belong to: today
 * those trades land in `late`, counted, which the loop test accepts.)
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planArchive, readArchive } from '../../replayer/read.ts';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { makeDecoder } from '../../src/exchanges/registry.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import type { SimTrade } from '../../src/sim/market.ts';
import { runCli, sleep, startCli, tmpDir } from '../helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 71, meanGapMs: 100 });
});
afterAll(async () => {
  await sim.close();
});

const endpoints = (): string[] => ['--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`];

/** Every trade id the archive holds (frames and REST backfills), per exchange:symbol. */
async function archivedIds(raw: string): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>();
  const decoders = new Map<string, ReturnType<typeof makeDecoder>>();
  for await (const ev of readArchive(await planArchive(raw))) {
    if (!decoders.has(ev.exchange)) decoders.set(ev.exchange, makeDecoder(ev.exchange));
    for (const m of decoders.get(ev.exchange)?.decode(ev) ?? []) {
      if (m.type !== 'trade') continue;
      const k = `${m.exchange}:${m.symbol}`;
      if (!out.has(k)) out.set(k, new Set());
      out.get(k)!.add(Number(m.tradeId));
    }
  }
  return out;
}

describe('restart backfill', () => {
  it('fills the trades made between a kill -9 and the restart', async () => {
    const dir = tmpDir();
    const first = startCli(['record', '--out', dir, '--metrics-port', '0', ...endpoints()]);
    await first.waitFor(/recording binance, coinbase/);
    await sleep(3_000);
    first.child.kill('SIGKILL');
    await first.exited;
    await sleep(3_000);
    const second = startCli(['record', '--out', dir, '--duration', '4s', '--metrics-port', '0', ...endpoints()]);
    expect(await second.exited, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/restart: backfilling \d+ trades? of (binance|coinbase)/);

    const got = await archivedIds(path.join(dir, 'raw'));
    for (const x of ['binance', 'coinbase']) {
      const bySymbol = new Map<string, number[]>();
      for (const t of sim.trades(x)) bySymbol.set(t.symbol, [...(bySymbol.get(t.symbol) ?? []), t.tradeId]);
      for (const [symbol, ids] of bySymbol) {
        const have = got.get(`${x}:${symbol}`) ?? new Set<number>();
        expect(have.size, `${x} ${symbol} was recorded`).toBeGreaterThan(0);
        const lo = Math.min(...have);
        const hi = Math.max(...have);
        const missing = ids.filter((id) => id >= lo && id <= hi && !have.has(id));
        expect(missing, `${x} ${symbol}: every trade from the first recorded to the last is in the archive`).toEqual([]);
      }
    }
  }, 90_000);

  it('loses no trade across a kill/restart loop: the archive holds every id, and a replay puts each trade in a candle or in late', async () => {
    const dir = tmpDir();
    for (let i = 0; i < 3; i++) {
      const rec = startCli(['record', '--out', dir, '--metrics-port', '0', ...endpoints()]);
      await rec.waitFor(/recording binance, coinbase/);
      await sleep(2_500);
      rec.child.kill('SIGKILL');
      await rec.exited;
      await sleep(2_000);
    }
    // startCli, not runCli: the simulator lives in this process and must keep serving.
    const last = startCli(['record', '--out', dir, '--duration', '4s', '--metrics-port', '0', ...endpoints()]);
    expect(await last.exited, last.stderr).toBe(0);
    expect(last.stderr, last.stderr).toMatch(/restart: backfilling/);
    const rep = runCli(['replay', '--from', path.join(dir, 'raw'), '--speed', 'max', '--windows', '1s', '--out', path.join(dir, 'replay')]);
    expect(rep.code, rep.stderr).toBe(0);

    const got = await archivedIds(path.join(dir, 'raw'));
    const counted = new Map<string, number>();
    const bump = (k: string, n: number): void => void counted.set(k, (counted.get(k) ?? 0) + n);
    for (const c of await readParquet(path.join(dir, 'replay', 'candles.parquet'))) bump(`${c.exchange} ${c.symbol} ${c.window_start}`, Number(c.trades));
    for (const l of await readParquet(path.join(dir, 'replay', 'late.parquet'))) bump(`${l.exchange} ${l.symbol} ${l.window_start}`, 1);
    let windows = 0;
    for (const x of ['binance', 'coinbase']) {
      const bySymbol = new Map<string, SimTrade[]>();
      for (const t of sim.trades(x)) bySymbol.set(t.symbol, [...(bySymbol.get(t.symbol) ?? []), t]);
      for (const [symbol, trades] of bySymbol) {
        const have = got.get(`${x}:${symbol}`) ?? new Set<number>();
        const lo = Math.min(...have);
        const hi = Math.max(...have);
        const inRange = trades.filter((t) => t.tradeId >= lo && t.tradeId <= hi);
        expect(inRange.filter((t) => !have.has(t.tradeId)).map((t) => t.tradeId), `${x} ${symbol}: the archive holds every id across 3 kills`).toEqual([]);
        // Whole 1 s windows strictly inside the recorded span: every trade is a candle's or late.
        const first = Math.floor(inRange[0]!.tsUs / 1000);
        const end = Math.floor(inRange.at(-1)!.tsUs / 1000);
        const sim1s = new Map<number, number>();
        for (const t of inRange) sim1s.set(Math.floor(t.tsUs / 1e6) * 1000, (sim1s.get(Math.floor(t.tsUs / 1e6) * 1000) ?? 0) + 1);
        for (const [w, n] of sim1s) {
          if (w <= first || w + 1000 > end) continue;
          windows++;
          expect(counted.get(`${x} ${symbol} ${w}`) ?? 0, `${x} ${symbol} ${w}: trades in the candle + late`).toBe(n);
        }
      }
    }
    expect(windows).toBeGreaterThan(20);
  }, 120_000);
});
