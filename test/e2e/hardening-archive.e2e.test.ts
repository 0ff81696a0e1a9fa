/**
 * A damaged archive file (cut short, bytes changed inside a compressed page, or a price
 * changed in an uncompressed one, which reads without an error) stops a replay with one line
 * that names the file and exit 2, whether the archive is read in line or on the reader
 * thread; never a stack trace, never a partial run's outputs. The digest a file carries of
 * its pages (archive-digest.ts) is the SHA-256 of exactly those bytes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_DIGEST_KEY, damage } from '../../src/storage/archive-digest.ts';
import { ARCHIVE_DECOMPRESSORS } from '../../src/storage/codecs.ts';
import { ArchiveWriter } from '../../src/storage/archive.ts';
import { simulateSession } from '../../src/sim/session.ts';
import { ROOT, filesUnder, runCli, tmpDir } from '../helpers.ts';

const dir = tmpDir('tapedeck-damage-');
const clean = path.join(dir, 'clean');
const plain = path.join(dir, 'plain');

beforeAll(() => {
  const events = simulateSession({ seed: 5, startMs: Date.UTC(2024, 7, 9), durationMs: 60_000, exchanges: ['binance', 'coinbase'], session: 'dmg-1' });
  for (const [root, opts] of [[clean, {}], [plain, { codec: 'UNCOMPRESSED' as const }]] as const) {
    const w = new ArchiveWriter(root, 'dmg-1', opts);
    for (const ev of events) w.write(ev);
    w.close();
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A copy of the clean archive with `damage` applied to its largest file; returns the copy and that file. */
function damaged(name: string, damage: (bytes: Buffer) => Buffer, from = clean): { root: string; file: string } {
  const root = path.join(dir, name);
  fs.cpSync(from, root, { recursive: true });
  const file = filesUnder(root).map((f) => path.join(root, f)).filter((f) => f.endsWith('.parquet')).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!;
  fs.writeFileSync(file, damage(fs.readFileSync(file)));
  return { root, file };
}

/** Flips every byte in the middle of the payload column's first page (ZSTD-compressed). */
function flipPayloadPage(bytes: Buffer): Buffer {
  const ab = Uint8Array.from(bytes).buffer;
  const col = parquetMetadata(ab).row_groups[0]!.columns.find((c) => c.meta_data!.path_in_schema.join('.') === 'payload')!.meta_data!;
  expect(col.codec).toBe('ZSTD');
  const start = Number(col.data_page_offset);
  const len = Number(col.total_compressed_size);
  const out = Buffer.from(bytes);
  for (let i = start + Math.floor(len / 3); i < start + Math.floor(len / 3) + 64; i++) out[i]! ^= 0xff;
  return out;
}

/** Changes the first Coinbase price's last digit: the page still reads, to another trade. */
function changePrice(bytes: Buffer): Buffer {
  const at = bytes.indexOf('"price":"') + '"price":"'.length;
  const end = bytes.indexOf('"', at);
  expect(at).toBeGreaterThan(8);
  const out = Buffer.from(bytes);
  out[end - 1] = out[end - 1] === 0x31 ? 0x32 : 0x31;
  return out;
}

describe('a damaged archive file', () => {
  it.each([
    ['cut short', (b: Buffer) => b.subarray(0, Math.floor(b.length / 2)), clean],
    ['bytes changed inside a compressed page', flipPayloadPage, clean],
    ['a price changed in an uncompressed page', changePrice, plain],
  ])('%s: one line naming the file, exit 2, no outputs, in line and on the reader thread', (name, damage, from) => {
    const { root, file } = damaged(name.replaceAll(' ', '-'), damage, from);
    for (const thread of ['0', '1']) {
      const out = path.join(dir, `out-${name.length}-${thread}`);
      const r = runCli(['replay', '--from', root, '--out', out], { TAPEDECK_READ_THREAD: thread });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('tapedeck: warning:'));
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^tapedeck: cannot read \\S*${path.basename(file)}: `));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(fs.existsSync(path.join(out, 'manifest.json'))).toBe(false);
    }
  });

  it('carries the SHA-256 of its bytes up to the end of its pages, and without it reads unchecked', () => {
    for (const root of [clean, plain]) {
      for (const f of filesUnder(root).map((x) => path.join(root, x)).filter((x) => x.endsWith('.parquet'))) {
        const bytes = fs.readFileSync(f);
        const kv = parquetMetadata(Uint8Array.from(bytes).buffer).key_value_metadata ?? [];
        const [n, hex] = kv.find((e) => e.key === DATA_DIGEST_KEY)!.value!.split(':');
        // The pages end where the footer's first row group begins its successor: at least the magic, short of the footer.
        expect(Number(n)).toBeGreaterThan(4);
        expect(Number(n)).toBeLessThan(bytes.length - 8);
        expect(createHash('sha256').update(bytes.subarray(0, Number(n))).digest('hex')).toBe(hex);
      }
    }
    // The golden session was written before the digest: it replays as it always has.
    const r = runCli(['replay', '--from', path.join(ROOT, 'data/sessions/sim-7-3m'), '--out', path.join(dir, 'golden-out')]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('refuses a digest that is not <bytes>:<64 hex digits>, or that claims more bytes than the file has', () => {
    const bytes = new Uint8Array(100);
    const buf = { byteLength: bytes.length, slice: (a: number, b?: number) => bytes.slice(a, b).buffer };
    const hex = createHash('sha256').update(bytes.subarray(0, 50)).digest('hex');
    expect(damage(buf, `50:${hex}`)).toBeUndefined();
    for (const value of ['', 'x', `50:${hex.slice(1)}`, `50:${hex.toUpperCase()}`, `-5:${hex}`, `50:${hex}\n`, `101:${hex}`]) {
      expect(damage(buf, value), JSON.stringify(value)).toMatch(/damaged/);
    }
    expect(damage(buf, `51:${hex}`)).toMatch(/^the file is damaged: /);
  });

  it('a ZSTD page that does not decompress is said to be damaged, not "failed to compress"', () => {
    expect(() => ARCHIVE_DECOMPRESSORS.ZSTD!(Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x10, 1, 2, 3, 4, 5]), 16)).toThrow(/ZSTD page does not decompress \(the file is damaged\)/);
  });
});
