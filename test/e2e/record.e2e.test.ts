/**
 * The recorder end to end against the simulator on loopback, through the CLI a user runs:
 * 30 s of binance + coinbase (BTC, ETH) with a forced disconnect on each exchange and
 * dropped trades that backfill must recover; then replay and verify give the live run's
 * digests, and the live candles equal the simulator's own trade log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import type { SimTrade } from '../../src/sim/market.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { digestRows, tableColumns } from '../../src/storage/outputs.ts';
import { writeParquet } from '../../src/storage/parquet.ts';
import { indicatorColumns, readManifest } from '../../src/storage/run.ts';
import { runCli, sleep, startCli, tmpDir } from '../helpers.ts';
import { expectReplayIdentical } from './record-helpers.ts';

describe('record → replay → verify against the simulator', () => {
  let sim: Simulator;
  const dir = tmpDir();
  let outDir = '';

  beforeAll(async () => {
    sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 7, meanGapMs: 120 });
    const rec = startCli([
      'record', '--exchanges', 'binance,coinbase', '--symbols', 'BTC-USD,ETH-USD', '--out', dir, '--duration', '30s',
      '--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`,
      '--windows', '1s,10s', '--metrics-port', '0',
    ]);
    await rec.waitFor(/recording binance, coinbase/);
    await sleep(5_000);
    sim.control({ action: 'drop', exchange: 'binance', count: 1 });
    await sleep(2_000);
    sim.control({ action: 'disconnect', exchange: 'binance' });
    await sleep(3_000);
    sim.control({ action: 'drop', exchange: 'coinbase', count: 2 });
    await sleep(2_000);
    sim.control({ action: 'disconnect', exchange: 'coinbase', mode: 'terminate' });
    await sleep(3_000);
    sim.control({ action: 'drop', exchange: 'binance', count: 1 });
    expect(await rec.exited, rec.stderr).toBe(0);
    outDir = /live outputs → (\S+):/.exec(rec.stdout)![1]!;
  }, 90_000);

  afterAll(async () => {
    await sim.close();
  });

  it('reconnected after each disconnect, and backfill filled every gap', async () => {
    const m = readManifest(outDir);
    const gaps = await readParquet(path.join(outDir, 'gaps.parquet'));
    expect(gaps.length, 'the dropped trades and disconnects left gaps').toBeGreaterThanOrEqual(2);
    expect(new Set(gaps.map((g) => g.exchange)), 'on both exchanges').toEqual(new Set(['binance', 'coinbase']));
    expect(m.stats.byKind.open, 'two connections per exchange').toBe(4);
    expect(m.stats.byKind.rest, 'a REST response per gap at least').toBeGreaterThanOrEqual(gaps.length);
    expect(m.stats.late, 'backfilled trades were not late').toBe(0);
    const candles = await readParquet(path.join(outDir, 'candles.parquet'));
    expect(candles.filter((c) => String(c.flags).includes('gap')), 'no window is left with a hole').toEqual([]);
  });

  it('gives live candles equal to the simulator\'s own trade log', async () => {
    const candles = await readParquet(path.join(outDir, 'candles.parquet'));
    const complete = candles.filter((c) => c.complete === true);
    expect(complete.length).toBeGreaterThan(50);
    const trades = new Map<string, SimTrade[]>();
    for (const x of ['binance', 'coinbase']) {
      for (const t of sim.trades(x)) {
        const len = 1000;
        // Binance carries trade time in ms; Coinbase in µs: bucket as the exchange reports it.
        const ms = Math.floor(t.tsUs / 1000);
        for (const interval of [['1s', len], ['10s', 10_000]] as const) {
          const key = `${x} ${t.symbol} ${interval[0]} ${Math.floor(ms / interval[1]) * interval[1]}`;
          if (!trades.has(key)) trades.set(key, []);
          trades.get(key)!.push(t);
        }
      }
    }
    for (const c of complete) {
      const key = `${c.exchange} ${c.symbol} ${c.interval} ${c.window_start}`;
      const ts = (trades.get(key) ?? []).sort((a, b) => a.tradeId - b.tradeId);
      expect(ts.length, `${key}: trades`).toBe(c.trades);
      expect(c.open, `${key}: open`).toBe(ts[0]!.price);
      expect(c.close, `${key}: close`).toBe(ts.at(-1)!.price);
      expect(c.high, `${key}: high`).toBe(Math.max(...ts.map((t) => t.price)));
      expect(c.low, `${key}: low`).toBe(Math.min(...ts.map((t) => t.price)));
      expect(c.volume as number, `${key}: volume`).toBeCloseTo(ts.reduce((s, t) => s + t.size, 0), 9);
      expect(c.buy_volume as number, `${key}: taker-buy volume`).toBeCloseTo(ts.filter((t) => t.side === 'buy').reduce((s, t) => s + t.size, 0), 9);
    }
  });

  it('replays to the same digests, and verify says identical', () => {
    expectReplayIdentical(dir, outDir, '1s,10s');
  });

  it('names the first differing table, row and input event when the outputs diverge', async () => {
    // A live run whose candle #5 came out different: rewrite it, with a consistent digest.
    const tampered = path.join(dir, 'tampered');
    fs.cpSync(outDir, tampered, { recursive: true });
    const m = readManifest(tampered);
    const columns = tableColumns('candles', indicatorColumns(m.engine));
    const rows = await readParquet(path.join(tampered, 'candles.parquet'));
    rows[5] = { ...rows[5], close: Number(rows[5]!.close) + 0.01 };
    writeParquet(path.join(tampered, 'candles.parquet'), columns, rows);
    m.tables.candles = { ...m.tables.candles!, sha256: digestRows(rows, columns) };
    fs.writeFileSync(path.join(tampered, 'manifest.json'), JSON.stringify(m));
    const v = runCli(['verify', '--recording', path.join(dir, 'raw'), '--live', tampered]);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/DIFF\s+candles/);
    expect(v.stderr).toContain('first difference in candles, row 5');
    expect(v.stderr).toContain(`input event: ${String(rows[5]!.session)}#${Number(rows[5]!.ingest_seq)}`);
  });
});
