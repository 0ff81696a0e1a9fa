/**
 * The spine end to end on the real BTCUSDT recording, through the CLI a user runs:
 * import the two hftbacktest files → replay → candles equal a reference computed here,
 * independently, straight from the recording's trade frames. Then the determinism
 * promise: --speed max, --speed 50x and a differently chunked archive give identical
 * table digests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readParquet } from '../../src/storage/parquet.ts';
import { REAL, readLines, real, runCli, tmpDir } from '../helpers.ts';

interface RefCandle { open: number; high: number; low: number; close: number; volume: number; trades: number; buy: number; sell: number; first: bigint; last: bigint }

/** 1m candles from the raw lines: bucket each trade frame by floor(T / 60000). */
function referenceCandles(files: string[]): Map<number, RefCandle> {
  const out = new Map<number, RefCandle>();
  for (const f of files) {
    for (const line of readLines(f)) {
      if (!line.includes('@trade"')) continue;
      const { data } = JSON.parse(line.slice(line.indexOf(' ') + 1)) as { data: { T: number; p: string; q: string; m: boolean; t: number } };
      const start = Math.floor(data.T / 60_000) * 60_000;
      const p = Number(data.p);
      const q = Number(data.q);
      const c = out.get(start);
      if (c === undefined) {
        out.set(start, { open: p, high: p, low: p, close: p, volume: q, trades: 1, buy: data.m ? 0 : q, sell: data.m ? q : 0, first: BigInt(data.t), last: BigInt(data.t) });
      } else {
        c.high = Math.max(c.high, p);
        c.low = Math.min(c.low, p);
        c.close = p;
        c.volume += q;
        c.trades++;
        if (data.m) c.sell += q;
        else c.buy += q;
        c.last = BigInt(data.t);
      }
    }
  }
  return out;
}

const manifestDigests = (dir: string): Record<string, string> => {
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { tables: Record<string, { sha256: string }> };
  return Object.fromEntries(Object.entries(m.tables).map(([t, r]) => [t, r.sha256]));
};

describe.skipIf(!REAL)('import + replay of the real BTCUSDT session', () => {
  const dir = tmpDir();
  const files = REAL ? ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => real(`binance/hftbacktest/${f}`)) : [];

  // The session holds depth updates and one REST depth snapshot, which no adapter reads:
  // import and replay say so (issue 11 §3), and say nothing else.
  const UNDECODED = 'tapedeck: warning: 6495 binance frames were not decoded (no adapter for channel "depthUpdate")\n'
    + 'tapedeck: warning: 1 binance frame was not decoded (no adapter for channel "rest:depth")\n';

  beforeAll(() => {
    const imp = runCli(['import', ...files, '--format', 'hftbacktest', '--out', path.join(dir, 'raw')]);
    expect(imp.stderr).toBe(UNDECODED);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toContain('99574 events');
    const rep = runCli(['replay', '--from', path.join(dir, 'raw'), '--speed', 'max', '--out', path.join(dir, 'max')]);
    expect(rep.stderr).toBe(UNDECODED);
    expect(rep.code).toBe(0);
  });

  it('imports the two files as one session, partitioned by date, in order', async () => {
    const parts = fs.readdirSync(path.join(dir, 'raw', 'venue=binance')).sort();
    expect(parts).toEqual(['date=2024-08-08', 'date=2024-08-09']);
    const day1 = fs.readdirSync(path.join(dir, 'raw', 'venue=binance', 'date=2024-08-08'));
    const day2 = fs.readdirSync(path.join(dir, 'raw', 'venue=binance', 'date=2024-08-09'));
    const rows1 = await readParquet(path.join(dir, 'raw', 'venue=binance', 'date=2024-08-08', day1[0]!));
    const rows2 = await readParquet(path.join(dir, 'raw', 'venue=binance', 'date=2024-08-09', day2[0]!));
    expect(rows1.length).toBe(41_249);
    expect(rows2.length).toBe(58_325);
    expect(new Set([...rows1, ...rows2].map((r) => r.session)).size, 'one session').toBe(1);
    expect(rows2[0]!.ingest_seq, 'the second file continues the first').toBe(41_249n);
    // Payload is the frame's exact text: compare with the recording's own line.
    const firstLine = readLines(files[0]!)[0]!;
    expect(rows1[0]!.payload).toBe(firstLine.slice(firstLine.indexOf(' ') + 1));
    expect(rows1[0]!.recv_ns).toBe(BigInt(firstLine.slice(0, firstLine.indexOf(' '))));
  });

  it('gives 1m candles equal to those computed directly from the trade frames, for every window', async () => {
    const ref = referenceCandles(files);
    const candles = (await readParquet(path.join(dir, 'max', 'candles.parquet'))).filter((c) => c.interval === '1m');
    expect(candles.length).toBe(ref.size);
    for (const c of candles) {
      const r = ref.get(Number(c.window_start));
      expect(r, `window ${c.window_start} exists in the recording`).toBeDefined();
      const at = `window ${new Date(Number(c.window_start)).toISOString()}`;
      expect([c.open, c.high, c.low, c.close, c.trades], at).toEqual([r!.open, r!.high, r!.low, r!.close, r!.trades]);
      expect(c.volume as number, `${at} volume`).toBeCloseTo(r!.volume, 9);
      expect(c.buy_volume as number, `${at} taker-buy volume`).toBeCloseTo(r!.buy, 9);
      expect(c.sell_volume as number, `${at} taker-sell volume`).toBeCloseTo(r!.sell, 9);
      expect([c.first_trade_id, c.last_trade_id], at).toEqual([r!.first, r!.last]);
    }
    const first = candles.reduce((a, b) => (a.window_start! < b.window_start! ? a : b));
    const last = candles.reduce((a, b) => (a.window_start! > b.window_start! ? a : b));
    expect(first.flags, 'the recording starts inside its first window').toBe('start');
    expect(last.flags, 'and ends inside its last').toBe('end');
    const late = await readParquet(path.join(dir, 'max', 'late.parquet'));
    expect(late, 'no trade arrived after its window closed').toEqual([]);
  });

  it('gives identical table digests at --speed 50x and from an archive cut into other files', () => {
    const chunked = path.join(dir, 'raw-chunked');
    expect(runCli(['import', ...files, '--format', 'hftbacktest', '--out', chunked, '--rows-per-file', '7777']).code).toBe(0);
    expect(fs.readdirSync(path.join(chunked, 'venue=binance', 'date=2024-08-08')).length).toBeGreaterThan(5);
    const r1 = runCli(['replay', '--from', chunked, '--speed', 'max', '--out', path.join(dir, 'chunked')]);
    expect(r1.code, r1.stderr).toBe(0);
    const r2 = runCli(['replay', '--from', path.join(dir, 'raw'), '--speed', '50x', '--out', path.join(dir, 'x50')]);
    expect(r2.code, r2.stderr).toBe(0);
    const base = manifestDigests(path.join(dir, 'max'));
    expect(manifestDigests(path.join(dir, 'chunked'))).toEqual(base);
    expect(manifestDigests(path.join(dir, 'x50'))).toEqual(base);
    for (const t of ['candles', 'indicators']) {
      expect(fs.readFileSync(path.join(dir, 'x50', `${t}.parquet`)).equals(fs.readFileSync(path.join(dir, 'max', `${t}.parquet`))), `${t}.parquet bytes`).toBe(true);
    }
  });
});
