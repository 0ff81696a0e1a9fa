/**
 * The import's archive writer thread (src/importers/write-thread.ts) writes the very files
 * the in-line writer does, byte for byte (real session, rotation, bad lines, CRLF, invalid
 * UTF-8, non-ASCII text, payloads sent from the bytes read or from their text), and a failure on the thread leaves no archive and no temp file.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { importRecordings, type ImportedSession } from '../../src/importers/import.ts';
import { REAL, real, runCli, tmpDir, filesUnder } from '../helpers.ts';

/** Every file under `dir`, relative path → bytes. */
function tree(dir: string): Map<string, Buffer> {
  return new Map(filesUnder(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort().map((f) => [f, fs.readFileSync(path.join(dir, f))]));
}

/** Imports `files` in line and on the thread: the same sessions and the same file bytes. */
async function expectSameArchive(files: string[], maxRows: number, minFiles: number): Promise<void> {
  const dir = tmpDir();
  const a = await importRecordings(files, { format: 'hftbacktest', out: path.join(dir, 'a'), maxRows, writeThread: false });
  const b = await importRecordings(files, { format: 'hftbacktest', out: path.join(dir, 'b'), maxRows, writeThread: true });
  const summary = (list: ImportedSession[]) => list.map((s) => ({ ...s, files: s.files.length, archive: path.dirname(s.archive) }));
  expect(summary(b)).toEqual(summary(a));
  const inLine = tree(path.join(dir, 'a'));
  const thread = tree(path.join(dir, 'b'));
  expect(inLine.size).toBeGreaterThanOrEqual(minFiles);
  expect([...thread.keys()]).toEqual([...inLine.keys()]);
  for (const [f, bytes] of inLine) expect(thread.get(f)!.equals(bytes), f).toBe(true);
}

describe('import writer thread', () => {
  it.skipIf(!REAL)('writes the real BTCUSDT session byte for byte as the in-line writer does (rotated files)', async () => {
    await expectSameArchive(['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => real(`binance/hftbacktest/${f}`)), 30_000, 4);
  });

  it('keeps bad lines, CRLF, invalid UTF-8 and non-ASCII payloads identical to the in-line writer', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'mixed_20240809.gz');
    const t0 = 1_723_161_600_001_000_000n;
    const parts: Buffer[] = [];
    for (let i = 0; i < 5000; i++) {
      const ns = t0 + BigInt(i) * 1_000_000n;
      if (i % 97 === 5) parts.push(Buffer.from('not a line'));
      else if (i % 89 === 3) parts.push(Buffer.concat([Buffer.from(`${ns} {"s":"`), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]));
      else if (i % 13 === 0) parts.push(Buffer.from(`${ns} {"s":"café ☕ 😀 ${i}"}\r`));
      else parts.push(Buffer.from(`${ns} {"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":${i}}}`));
    }
    fs.writeFileSync(file, zlib.gzipSync(Buffer.concat(parts.flatMap((p) => [p, Buffer.from('\n')]))));
    await expectSameArchive([file], 700, 7);
  });

  it('sends payloads from the bytes read in all-ASCII chunks and from their text in the others, identically (several 1 MiB chunks)', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'chunks_20240809');
    // Non-ASCII text in one stretch only (its chunk is decoded as UTF-8; the others are not),
    // with bad lines, empty lines and CRLF endings among the rest.
    const line = (i: number): string => {
      const head = `${1_723_161_600_001_000_000n + BigInt(i) * 1_000_000n} {"s":"${i >= 12_000 && i < 12_050 ? 'BTC€' : 'BTCUSDT'}","t":${i}`;
      return i % 997 === 5 ? 'not a line' : i % 1009 === 7 ? '' : i % 13 === 0 ? `${head}}\r` : `${head},"p":"${60000 + (i % 500)}.01","q":"0.001"}`;
    };
    // Plain text: the file is read in 1 MiB pieces, cut at their last newline.
    fs.writeFileSync(file, Array.from({ length: 50_000 }, (_, i) => line(i)).join('\n'));
    expect(fs.statSync(file).size).toBeGreaterThan(3 << 20);
    await expectSameArchive([file], 7000, 5);
  });

  it('a failure on the thread (the archive folder cannot be made) rejects, and leaves nothing behind', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'btcusdt_20240809');
    fs.writeFileSync(file, '1723161600001000000 {"s":"BTCUSDT"}\n');
    const blocker = path.join(dir, 'raw');
    fs.writeFileSync(blocker, 'a file where the archive folder would be');
    const inLine = await importRecordings([file], { format: 'hftbacktest', out: blocker, writeThread: false }).catch((e: Error) => e);
    const thread = await importRecordings([file], { format: 'hftbacktest', out: blocker, writeThread: true }).catch((e: Error) => e);
    expect(inLine).toBeInstanceOf(Error);
    expect((thread as Error).message).toBe((inLine as Error).message);
    expect(fs.readdirSync(dir).sort()).toEqual(['btcusdt_20240809', 'raw']);
  });

  it.each([true, false])('a failure after files were finished (the next day\'s folder cannot be made) removes them all (thread: %s)', async (writeThread) => {
    const dir = tmpDir();
    const file = path.join(dir, 'btcusdt_20240808');
    const t0 = 1_723_161_599_000_000_000n; // 2024-08-08T23:59:59Z
    fs.writeFileSync(file, Array.from({ length: 40 }, (_, i) => `${t0 + BigInt(i) * 100_000_000n} {"s":"BTCUSDT","i":${i}}`).join('\n'));
    const out = path.join(dir, 'raw');
    fs.mkdirSync(path.join(out, 'venue=binance'), { recursive: true });
    fs.writeFileSync(path.join(out, 'venue=binance', 'date=2024-08-09'), 'in the way');
    const err = await importRecordings([file], { format: 'hftbacktest', out, maxRows: 3, writeThread }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/EEXIST|ENOTDIR/);
    expect(filesUnder(out).filter((f) => f.endsWith('.parquet') || f.endsWith('.tmp'))).toEqual([]);
  });

  it('TAPEDECK_IMPORT_THREAD other than 0 or 1 is one line and exit 2', () => {
    const r = runCli(['import', 'x.gz', '--format', 'hftbacktest', '--out', tmpDir()], { TAPEDECK_IMPORT_THREAD: 'yes' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['tapedeck: bad TAPEDECK_IMPORT_THREAD "yes" (0: write in line, 1: write on a worker thread)']);
  });
});
