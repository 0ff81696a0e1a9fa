/**
 * Restart backfill (issue 10 item 3): a new session on the same --out continues each
 * symbol's trade-id continuity from the last trade the archive holds, and backfills over
 * REST the trades made while no recorder ran, so the archive has no hole across a kill -9
 * and restart; and a replay of the whole archive gives whole, complete candles across it
 * (the engine treats a new session as a disconnect and folds a REST body as one instant).
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
  sim = await startSimulator({ exchanges: ALL, seed: 71, meanGapMs: 100 });
});
afterAll(async () => {
  await sim.close();
});

/** Every exchange the simulator speaks: each pages its REST trades its own way (by id, by time, newest first). */
const ALL = ['binance', 'bitstamp', 'coinbase', 'kraken'];
const endpoints = (exchanges = ['binance', 'coinbase']): string[] => exchanges.flatMap((x) => ['--endpoint', `${x}=${sim.wsUrl(x)}`]);

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
  it('fills the trades made between a kill -9 and the restart, on every exchange', async () => {
    const dir = tmpDir();
    const args = ['record', '--exchanges', ALL.join(','), '--out', dir, '--metrics-port', '0', ...endpoints(ALL)];
    const first = startCli(args);
    await first.waitFor(/recording binance, bitstamp, coinbase, kraken/);
    await sleep(3_000);
    first.child.kill('SIGKILL');
    await first.exited;
    await sleep(3_000);
    const second = startCli([...args, '--duration', '4s']);
    expect(await second.exited, second.stderr).toBe(0);
    for (const x of ALL) expect(second.stderr).toMatch(new RegExp(`restart: backfilling \\d+ trades? of ${x}`));

    const got = await archivedIds(path.join(dir, 'raw'));
    for (const x of ALL) {
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

  it('gives whole candles across a kill/restart loop: each 1 s candle equals the simulator\'s trade log, complete, nothing late', async () => {
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
    const candles = new Map<string, Record<string, unknown>>();
    for (const c of await readParquet(path.join(dir, 'replay', 'candles.parquet'))) candles.set(`${c.exchange} ${c.symbol} ${c.window_start}`, c);
    const late = await readParquet(path.join(dir, 'replay', 'late.parquet'));
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
        // Whole 1 s windows strictly inside the recorded span: the candle is the simulator's trades, exactly.
        const first = Math.floor(inRange[0]!.tsUs / 1000);
        const end = Math.floor(inRange.at(-1)!.tsUs / 1000);
        const sim1s = new Map<number, SimTrade[]>();
        for (const t of inRange) {
          const w = Math.floor(t.tsUs / 1e6) * 1000;
          sim1s.set(w, [...(sim1s.get(w) ?? []), t]);
        }
        for (const [w, ts] of sim1s) {
          if (w <= first || w + 1000 > end) continue;
          windows++;
          const c = candles.get(`${x} ${symbol} ${w}`);
          const ids = ts.map((t) => t.tradeId);
          const volume = ts.reduce((v, t) => v + Math.round(t.size * 1e8), 0) / 1e8;
          expect(c && { trades: c.trades, first: Number(c.first_trade_id), last: Number(c.last_trade_id), complete: c.complete, flags: c.flags }, `${x} ${symbol} ${w}`)
            .toEqual({ trades: ts.length, first: Math.min(...ids), last: Math.max(...ids), complete: true, flags: '' });
          expect(c!.volume as number, `${x} ${symbol} ${w} volume`).toBeCloseTo(volume, 8);
        }
      }
    }
    expect(windows).toBeGreaterThan(20);
    expect(late.map((l) => `${l.exchange} ${l.symbol} ${l.trade_id}`), 'no trade of the loop is late').toEqual([]);
  }, 120_000);
});
