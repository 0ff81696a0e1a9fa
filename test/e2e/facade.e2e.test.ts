/**
 * The replay façade: the simulator re-serves a real recording over Binance's own protocol,
 * and an unmodified client (tapedeck's recorder) records it again: the frames arrive byte
 * for byte, in order, and the candles of every window it saw whole equal the original's.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planArchive, readArchive } from '../../replayer/read.ts';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { REAL, real, runCli, startCli, tmpDir } from '../helpers.ts';

describe.skipIf(!REAL)('replay façade', () => {
  const dir = tmpDir();
  let sim: Simulator;

  beforeAll(async () => {
    const imp = runCli(['import', real('binance/hftbacktest/btcusdt_20240808.gz'), real('binance/hftbacktest/btcusdt_20240809.gz'), '--format', 'hftbacktest', '--out', path.join(dir, 'orig')]);
    expect(imp.code, imp.stderr).toBe(0);
    sim = await startSimulator({ exchanges: ['binance'], seed: 1, from: path.join(dir, 'orig'), speed: 60 });
  });
  afterAll(async () => sim?.close());

  it('re-serves a real recording that a client records again, byte for byte', async () => {
    const rec = startCli(['record', '--exchanges', 'binance', '--symbols', 'BTC-USD', '--out', path.join(dir, 'again'), '--duration', '6s',
      '--windows', '10s', '--metrics-port', '0', '--endpoint', `binance=${sim.wsUrl('binance')}`]);
    expect(await rec.exited, rec.stderr).toBe(0);
    const frames = async (d: string) => {
      const out: string[] = [];
      for await (const ev of readArchive(await planArchive(d))) if (ev.kind === 'frame' && ev.payload.startsWith('{"stream":"btcusdt@')) out.push(ev.payload);
      return out;
    };
    const orig = (await frames(path.join(dir, 'orig'))).filter((p) => !p.includes('@depth'));
    const again = await frames(path.join(dir, 'again', 'raw'));
    expect(again.length, 'about 6 s × 60 of the recording').toBeGreaterThan(3_000);
    const first = orig.indexOf(again[0]!);
    expect(first, 'the recorder subscribed late, yet gets the recording from its first frame').toBe(0);
    expect(again, 'a contiguous, identical run of the original frames').toEqual(orig.slice(first, first + again.length));

    const rep = runCli(['replay', '--from', path.join(dir, 'orig'), '--windows', '10s', '--out', path.join(dir, 'orig-out')]);
    expect(rep.code, rep.stderr).toBe(0);
    const key = (c: Record<string, unknown>) => `${c.interval} ${c.window_start}`;
    const want = new Map((await readParquet(path.join(dir, 'orig-out', 'candles.parquet'))).map((c) => [key(c), c]));
    const live = /live outputs → (\S+):/.exec(rec.stdout)![1]!;
    const complete = (await readParquet(path.join(live, 'candles.parquet'))).filter((c) => c.complete === true);
    expect(complete.length).toBeGreaterThan(5);
    for (const c of complete) {
      const o = want.get(key(c))!;
      expect([c.open, c.high, c.low, c.close, c.trades, c.first_trade_id, c.last_trade_id], key(c)).toEqual([o.open, o.high, o.low, o.close, o.trades, o.first_trade_id, o.last_trade_id]);
    }
  }, 60_000);
});
