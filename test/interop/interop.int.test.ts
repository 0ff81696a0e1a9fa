/**
 * Every table tapedeck writes reads correctly in pyarrow, pandas, DuckDB and Polars: the
 * types say what tapedeck meant (INT64 stays an exact 64-bit integer, times are UTC,
 * strings are strings) and every value is the one tapedeck wrote — nanosecond receive
 * times exact, trade ids exact above 2^53, non-ASCII payloads intact.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../../replayer/replay.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { ArchiveWriter } from '../../src/storage/archive.ts';
import { listArchiveFiles } from '../../src/storage/archive-read.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { readManifest } from '../../src/storage/run.ts';
import { ROOT, runCli, tmpDir } from '../helpers.ts';

const BIG = 9_007_199_254_740_993n; // 2^53 + 1: a double cannot hold it

/** Binance trades with ids past 2^53 (one id skipped: a gap whose range is past 2^53 too). */
function bigIdSession(): LogEvent[] {
  const t0 = 1_723_161_600_000;
  const events: LogEvent[] = [];
  for (let i = 0; i < 40; i++) {
    if (i === 20) continue;
    const id = BIG + BigInt(i);
    const T = t0 + i * 1_700;
    events.push({
      session: 'bigid', ingestSeq: events.length, recvNs: BigInt(T) * 1_000_000n + 123_456_789n, exchange: 'binance', conn: 'c', kind: 'frame', meta: '',
      payload: `{"stream":"btcusdt@trade","data":{"e":"trade","E":${T},"s":"BTCUSDT","t":${id},"p":"6000${i % 10}.12000000","q":"0.01000000","T":${T},"m":${i % 2 === 0},"M":true}}`,
    });
  }
  return events;
}

const INT_TYPES: Record<string, RegExp> = { pyarrow: /^int64$/, pandas: /^int64$/i, duckdb: /^BIGINT$/, polars: /^Int64$/ };
const TS_TYPES: Record<string, RegExp> = {
  pyarrow: /^timestamp\[ms, tz=UTC\]$/, pandas: /^datetime64\[ms, UTC\]$/, duckdb: /^TIMESTAMP WITH TIME ZONE$/, polars: /^Datetime\(time_unit='ms', time_zone='UTC'\)$/,
};
const STR_TYPES: Record<string, RegExp> = { pyarrow: /^(large_)?string$/, pandas: /^(str|string|object)$/, duckdb: /^VARCHAR$/, polars: /^String$/ };

type PyTable = { types: Record<string, string>; rows: unknown[][] };

describe('Parquet interop: pyarrow, pandas, DuckDB, Polars', () => {
  const dir = tmpDir();
  const files: string[] = [];
  let python: Record<string, Record<string, PyTable>> = {};
  let py = '';

  beforeAll(async () => {
    py = execFileSync('bash', [path.join(ROOT, 'notebooks/setup.sh')], { encoding: 'utf8', timeout: 900_000 }).trim();
    const demo = runCli(['demo', '--minutes', '3', '--out', path.join(dir, 'demo')]);
    expect(demo.code, demo.stderr).toBe(0);
    const w = new ArchiveWriter(path.join(dir, 'big', 'raw'), 'bigid');
    for (const ev of bigIdSession()) w.write(ev);
    w.close();
    await replay({ from: path.join(dir, 'big', 'raw'), out: path.join(dir, 'big', 'out'), speed: 'max', config: { ...DEFAULT_CONFIG, intervalsMs: [10_000] } });
    for (const d of ['demo', 'big']) {
      files.push(...listArchiveFiles(path.join(dir, d, 'raw')));
      files.push(...fs.readdirSync(path.join(dir, d, 'out')).filter((f) => f.endsWith('.parquet')).map((f) => path.join(dir, d, 'out', f)));
    }
    python = JSON.parse(execFileSync(py, [path.join(ROOT, 'test/interop/read_tables.py'), ...files, `dataset:${path.join(dir, 'demo', 'raw')}`], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 300_000 })) as typeof python;
  }, 900_000);

  it('reads every table with the right types and exactly the values tapedeck wrote', async () => {
    expect(files.length).toBeGreaterThanOrEqual(14);
    for (const f of files) {
      const ours = await readParquet(f);
      const names = Object.keys(ours[0] ?? python[f]!.pyarrow!.types);
      for (const reader of ['pyarrow', 'pandas', 'duckdb', 'polars']) {
        const t = python[f]![reader]!;
        const where = `${path.relative(dir, f)} via ${reader}`;
        expect(Object.keys(t.types), `${where}: columns`).toEqual(names);
        expect(t.rows.length, `${where}: rows`).toBe(ours.length);
        names.forEach((name, j) => {
          const sample = ours.find((r) => r[name] !== null)?.[name];
          const type = t.types[name]!;
          if (typeof sample === 'bigint') expect(type, `${where}: ${name} is a 64-bit integer`).toMatch(INT_TYPES[reader]!);
          if (sample instanceof Date) expect(type, `${where}: ${name} is a UTC timestamp`).toMatch(TS_TYPES[reader]!);
          if (typeof sample === 'string' && ours.length > 0) expect(type, `${where}: ${name} is a string`).toMatch(STR_TYPES[reader]!);
          ours.forEach((row, i) => {
            const v = row[name];
            const got = t.rows[i]![j];
            const at = `${where}: ${name} row ${i}`;
            if (v === null || v === undefined) expect(got, at).toBeNull();
            else if (typeof v === 'bigint') expect(got, at).toBe(v.toString());
            else if (v instanceof Date) expect(got, at).toBe(String(v.getTime()));
            else if (typeof v === 'number' && !Number.isInteger(v)) expect(Number(got), at).toBe(v);
            else if (typeof v === 'number') expect(Number(got), at).toBe(v);
            else expect(got, at).toBe(v);
          });
        });
      }
    }
  });

  it('opens the partitioned raw archive folder as one dataset in every reader', async () => {
    const want: Record<string, number> = {};
    for (const f of files.filter((x) => x.includes(`${path.sep}demo${path.sep}raw`))) {
      for (const r of await readParquet(f, ['exchange'])) want[String(r.exchange)] = (want[String(r.exchange)] ?? 0) + 1;
    }
    const got = python[`dataset:${path.join(dir, 'demo', 'raw')}`] as unknown as Record<string, Record<string, number>>;
    for (const reader of ['pyarrow', 'pandas', 'duckdb', 'polars']) {
      // Ticks (exchange '') live in the venue=all partition.
      const norm = Object.fromEntries(Object.entries(got[reader]!).map(([k, n]) => [k === 'all' ? '' : k, n]));
      expect(norm, `${reader}: rows per exchange`).toEqual(want);
    }
  });

  it('keeps what a double would lose: ns receive times, ids past 2^53, non-ASCII text', () => {
    const raw = files.find((f) => f.includes(`${path.sep}big${path.sep}raw`))!;
    const candles = files.find((f) => f.includes(`${path.sep}big${path.sep}out`) && f.endsWith('candles.parquet'))!;
    const gaps = files.find((f) => f.includes(`${path.sep}big${path.sep}out`) && f.endsWith('gaps.parquet'))!;
    for (const reader of ['pyarrow', 'pandas', 'duckdb', 'polars']) {
      const r = python[raw]![reader]!;
      expect(r.rows[0]![r.types.recv_ns !== undefined ? Object.keys(r.types).indexOf('recv_ns') : -1], reader).toBe('1723161600123456789');
      const c = python[candles]![reader]!;
      expect(c.rows[0]![Object.keys(c.types).indexOf('first_trade_id')], reader).toBe(BIG.toString());
      const g = python[gaps]![reader]!;
      expect(g.rows[0]![Object.keys(g.types).indexOf('from_id')], `${reader}: gap id past 2^53`).toBe((BIG + 20n).toString());
      const demoRaw = files.filter((f) => f.includes(`${path.sep}demo${path.sep}raw`) && f.includes('venue=coinbase'));
      const payloads = demoRaw.flatMap((f) => python[f]![reader]!.rows.map((row) => row[Object.keys(python[f]![reader]!.types).indexOf('payload')]));
      expect(payloads, `${reader}: non-ASCII payload intact`).toContain('{"type":"status","note":"Wartung geplant – Zürich ✓"}');
    }
  });

  it('replays an archive pyarrow rewrote to its outputs, and never a cache of what it was before', () => {
    // pyarrow's read_table then write_table keeps tapedeck's key-value metadata, its page
    // digest with it, over pages of its own. Before, such a file was called damaged; and once a
    // replay had cached it, rows cut from it were still replayed, from the cache, as before.
    const rewrite = (root: string, cut: number): void => {
      execFileSync(py, ['-c', `import glob, pyarrow.parquet as pq
for f in sorted(glob.glob(${JSON.stringify(root)} + '/**/*.parquet', recursive=True)):
    t = pq.read_table(f)
    pq.write_table(t.slice(0, t.num_rows - (${cut} if 'venue=binance' in f else 0)), f)`], { encoding: 'utf8', timeout: 120_000 });
    };
    const digests = (out: string): Record<string, string> => Object.fromEntries(Object.entries(readManifest(out).tables).map(([t, r]) => [t, r.sha256]));
    const original = path.join(dir, 'demo', 'raw');
    const cache = path.join(dir, 'decoded');
    const copy = (name: string): string => {
      const to = path.join(dir, name);
      fs.cpSync(original, to, { recursive: true });
      return to;
    };
    const replayed = (from: string, name: string): { events: number; out: string; stdout: string } => {
      const out = path.join(dir, name);
      const r = runCli(['replay', '--from', from, '--out', out], { TAPEDECK_DECODE_CACHE: cache });
      expect(r.code, r.stderr).toBe(0);
      return { events: readManifest(out).events, out, stdout: r.stdout };
    };
    const before = replayed(original, 'rw-original');
    // Every file rewritten by pyarrow (snappy, its own dictionaries): the same outputs.
    const whole = copy('rw-whole');
    rewrite(whole, 0);
    const same = replayed(whole, 'rw-whole-out');
    expect(same.stdout, 'another tool\'s file is known by its bytes: the cache of the original is not it').not.toMatch(/decoded by an earlier replay/);
    expect(digests(same.out)).toEqual(digests(before.out));
    // Cached, then 500 rows cut by pyarrow: the cut file is replayed, not the cache.
    const cut = copy('rw-cut');
    expect(replayed(cut, 'rw-cut-1').stdout).toMatch(/decoded by an earlier replay/);
    rewrite(cut, 500);
    const after = replayed(cut, 'rw-cut-2');
    expect(after.events).toBe(before.events - 500);
    expect(digests(after.out)).not.toEqual(digests(before.out));
  }, 300_000);
});
