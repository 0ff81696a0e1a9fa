/**
 * Restart backfill (issue 10 item 3): a new session on the same --out continues each
 * symbol's trade-id continuity from the last trade the archive holds, and backfills over
 * REST the trades made while no recorder ran, so the archive has no hole across a kill -9
 * and restart.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planArchive, readArchive } from '../../replayer/read.ts';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { makeDecoder } from '../../src/exchanges/registry.ts';
import { sleep, startCli, tmpDir } from '../helpers.ts';

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
});
