/**
 * The import's gzip reader (src/importers/gunzip.ts) against zlib's gunzip as the oracle:
 * any number of members, with any of the optional header fields (extra, name, comment,
 * header CRC), read in chunks of any size, give exactly what gunzip gives of the members;
 * after them, zero padding is no trailing garbage and anything else is counted to the byte
 * (where gunzip failed and lost what it had inflated of the last chunk). A member cut short
 * yields what was inflated before the cut and then fails as gunzip does; a wrong CRC or
 * length fails with gunzip's message; a file that is not gzip fails before any byte.
 */
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipFile } from '../../src/importers/gunzip.ts';
import { tmpDir } from '../helpers.ts';

const dir = tmpDir('tapedeck-gunzip-');
let files = 0;

interface Member {
  readonly content: Uint8Array;
  readonly extra?: Uint8Array;
  readonly name?: string;
  readonly comment?: string;
  readonly headerCrc: boolean;
  readonly level: number;
}

/** A gzip member as RFC 1952 lays it out, with the optional fields asked for. */
function member(m: Member): Buffer {
  const flags = (m.headerCrc ? 2 : 0) | (m.extra ? 4 : 0) | (m.name !== undefined ? 8 : 0) | (m.comment !== undefined ? 16 : 0);
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3])];
  if (m.extra) {
    const len = Buffer.alloc(2);
    len.writeUInt16LE(m.extra.length);
    parts.push(len, Buffer.from(m.extra));
  }
  if (m.name !== undefined) parts.push(Buffer.from(`${m.name}\0`, 'latin1'));
  if (m.comment !== undefined) parts.push(Buffer.from(`${m.comment}\0`, 'latin1'));
  if (m.headerCrc) {
    const crc = Buffer.alloc(2);
    crc.writeUInt16LE(zlib.crc32(Buffer.concat(parts)) & 0xffff);
    parts.push(crc);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(m.content), 0);
  trailer.writeUInt32LE(m.content.length % 2 ** 32, 4);
  parts.push(zlib.deflateRawSync(m.content, { level: m.level }), trailer);
  return Buffer.concat(parts);
}

const text = fc.stringMatching(/^[ -~]{0,12}$/);
const memberArb: fc.Arbitrary<Member> = fc.record({
  // Lines, as recordings hold, sometimes long enough to span many chunks, sometimes none.
  content: fc.oneof(
    fc.array(fc.string({ maxLength: 60 }), { maxLength: 40 }).map((ls) => new TextEncoder().encode(ls.map((l) => `${l}\n`).join(''))),
    fc.uint8Array({ maxLength: 3000 }),
  ),
  extra: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: undefined }),
  name: fc.option(text, { nil: undefined }),
  comment: fc.option(text, { nil: undefined }),
  headerCrc: fc.boolean(),
  level: fc.integer({ min: 0, max: 9 }),
});

function write(bytes: Uint8Array): string {
  const file = path.join(dir, `f${files++}.gz`);
  fs.writeFileSync(file, bytes);
  return file;
}

async function read(file: string, chunkSize: number): Promise<{ out: Buffer; trailing: number | undefined; error?: string }> {
  const out: Buffer[] = [];
  let trailing: number | undefined;
  try {
    for await (const b of gunzipFile(file, (n) => (trailing = n), chunkSize)) out.push(b);
  } catch (err) {
    return { out: Buffer.concat(out), trailing, error: (err as Error).message };
  }
  return { out: Buffer.concat(out), trailing };
}

describe('the import\'s gzip reader', () => {
  it('gives what gunzip gives of any members, in chunks of any size, and counts the bytes after them that are not gzip', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(memberArb, { minLength: 1, maxLength: 4 }),
      fc.oneof(
        fc.constant(new Uint8Array(0)),
        fc.integer({ min: 1, max: 600 }).map((n) => new Uint8Array(n)),
        // Garbage (not a member's start), after zero padding or not: every byte of it counted.
        fc.tuple(fc.integer({ min: 0, max: 40 }), fc.uint8Array({ minLength: 1, maxLength: 600 }).filter((g) => g.some((b) => b !== 0)))
          .map(([zeros, g]) => Buffer.concat([Buffer.alloc(zeros), g]))
          .filter((g) => !(g[0] === 0x1f && g[1] === 0x8b)),
      ),
      fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constant(1 << 16)),
      async (members, after, chunkSize) => {
        const gz = Buffer.concat(members.map(member));
        const got = await read(write(Buffer.concat([gz, after])), chunkSize);
        expect(got.error).toBeUndefined();
        expect(got.out.equals(zlib.gunzipSync(gz)), 'every member, in order').toBe(true);
        expect(got.trailing).toBe(after.some((b) => b !== 0) ? after.length : 0);
      },
    ), { numRuns: 150 });
  });

  it('keeps what was inflated before a cut, then fails as gunzip does; a wrong CRC or length fails with gunzip\'s words', async () => {
    await fc.assert(fc.asyncProperty(memberArb, fc.double({ min: 0.3, max: 0.95, noNaN: true }), async (m, at) => {
      const whole = member({ ...m, content: new TextEncoder().encode('x'.repeat(5000) + Buffer.from(m.content).toString('hex')) });
      const cut = whole.subarray(0, Math.floor(whole.length * at));
      const got = await read(write(cut), 256);
      const oracle = zlib.gunzipSync(cut, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      expect(got.error).toBe('unexpected end of file');
      expect(oracle.subarray(0, got.out.length).equals(got.out), 'a prefix of what a reader that stops at the cut gets').toBe(true);
      expect(got.out.length, 'most of it').toBeGreaterThanOrEqual(oracle.length - 256 * 8);
    }), { numRuns: 40 });
    const good = member({ content: new TextEncoder().encode('a line\n'.repeat(100)), headerCrc: false, level: 6 });
    for (const [at, message] of [[good.length - 8, 'incorrect data check'], [good.length - 4, 'incorrect length check']] as const) {
      const bad = Buffer.from(good);
      bad[at] = bad[at]! ^ 1;
      expect((await read(write(bad), 1 << 16)).error).toBe(message);
      expect(() => zlib.gunzipSync(bad)).toThrow(message);
    }
  });

  it('reads members whose output fills many buffers, one that inflates a thousandfold, and thousands of small ones, in any read size', async () => {
    const lines = new TextEncoder().encode(Array.from({ length: 60_000 }, (_, i) => `${1_723_161_600_001_000_000n + BigInt(i)} {"t":${i * 7919 % 10007}}\n`).join(''));
    const zeros = new Uint8Array(20 << 20);
    const gz = Buffer.concat([member({ content: lines, headerCrc: true, level: 1 }), member({ content: zeros, name: 'z', headerCrc: false, level: 9 })]);
    // And a file an appender wrote a member at a time.
    const appended = Buffer.concat(Array.from({ length: 3000 }, (_, i) => zlib.gzipSync(`${i} {"t":${i}}\n`.repeat(1 + (i % 5)))));
    for (const bytes of [gz, appended]) {
      for (const readSize of [1 << 20, 4096, 777]) {
        const got = await read(write(bytes), readSize);
        expect(got.error).toBeUndefined();
        expect(got.out.equals(zlib.gunzipSync(bytes)), `read ${readSize} bytes at a time`).toBe(true);
        expect(got.trailing).toBe(0);
      }
    }
  });

  it('holds a thousandfold member a buffer at a time, and lets its reader stop early without waiting for the rest', async () => {
    const file = write(zlib.gzipSync(Buffer.alloc(200 << 20), { level: 1 }));
    let seen = 0;
    let biggest = 0;
    for await (const b of gunzipFile(file, () => undefined)) {
      seen += b.length;
      biggest = Math.max(biggest, b.length);
      if (seen >= 8 << 20) break;
    }
    expect(biggest, 'what it yields at a time').toBeLessThanOrEqual(1 << 20);
    expect(seen).toBeGreaterThanOrEqual(8 << 20);
  });

  it('stops on damaged data with gunzip\'s words, after yielding the members before it whole (a damaged member hung the reader)', async () => {
    const first = member({ content: new TextEncoder().encode('a line\n'.repeat(5000)), headerCrc: false, level: 6 });
    const second = member({ content: new TextEncoder().encode('another\n'.repeat(5000)), headerCrc: false, level: 6 });
    const damaged = Buffer.from(second);
    damaged[10] = 0xff;
    damaged[11] = 0xff;
    const badHeaderCrc = member({ content: new TextEncoder().encode('x\n'), name: 'n', headerCrc: true, level: 6 });
    badHeaderCrc[12] = badHeaderCrc[12]! ^ 1;
    for (const [bytes, what] of [[Buffer.concat([first, damaged]), 'a damaged block'], [Buffer.concat([first, badHeaderCrc]), 'a header CRC that does not match']] as const) {
      const got = await read(write(bytes), 1 << 16);
      let oracle = '';
      try {
        zlib.gunzipSync(bytes);
      } catch (err) {
        oracle = (err as Error).message;
      }
      expect(got.error, what).toBe(oracle);
      expect(got.out.subarray(0, 40_000).equals(zlib.gunzipSync(first)), `${what}: the first member whole`).toBe(true);
    }
  });

  it('stops on damage deep inside a large member, with gunzip\'s words, even while its reader is slow (its feeding, woken by the damage, waited for room forever)', async () => {
    let x = 7;
    const text = new TextEncoder().encode(Array.from({ length: 400_000 }, (_, i) => `${i} ${(x = (x * 48271) % 2147483647)}\n`).join(''));
    const whole = member({ content: text, headerCrc: false, level: 6 });
    for (const at of [0.4, 0.6, 0.8]) {
      // 4 KiB of noise: damage zlib finds in the data itself, not only in the CRC at the end.
      const bad = Buffer.from(whole);
      let y = 11;
      for (let k = 0; k < 4096; k++) bad[Math.floor(bad.length * at) + k] = (y = (y * 48271) % 2147483647) & 255;
      let oracle = '';
      try {
        zlib.gunzipSync(bad);
      } catch (err) {
        oracle = (err as Error).message;
      }
      expect(oracle, 'damage in the data').not.toMatch(/check/);
      const out: Buffer[] = [];
      let error = '';
      try {
        for await (const b of gunzipFile(write(bad), () => undefined, 64 << 10)) {
          out.push(b);
          await new Promise((r) => setTimeout(r, 20));
        }
      } catch (err) {
        error = (err as Error).message;
      }
      expect(error, `damaged at ${at}`).toBe(oracle);
      const got = Buffer.concat(out);
      // What came before the damage, as it was (the damaged bytes may inflate to wrong ones,
      // even many, before zlib finds them out, as they do for gunzip).
      let same = 0;
      while (same < got.length && got[same] === text[same]) same++;
      expect(same, 'the text before the damage').toBeGreaterThan(text.length * at * 0.5);
    }
  }, 60_000);

  it('reads a name of megabytes, read a few KiB at a time, once (it was copied and searched again at every read: 64 MiB of name took minutes)', async () => {
    // A file that is not gzip past its first bytes, whose flags byte asks for a name: the name runs on to the end.
    const unterminated = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3]), Buffer.alloc(64 << 20, 0x61)]);
    const got = await read(write(unterminated), 16 << 10);
    expect(got.out.length).toBe(0);
    expect(got.error).toBe('unexpected end of file');
    // A long name and comment, then a member: its bytes, and the header CRC over all of them.
    const named = member({ content: new TextEncoder().encode('a line\n'.repeat(1000)), name: 'n'.repeat(3 << 20), comment: 'c'.repeat(1 << 20), headerCrc: true, level: 6 });
    const back = await read(write(Buffer.concat([named, named])), 4096);
    expect(back.error).toBeUndefined();
    expect(back.out.equals(zlib.gunzipSync(Buffer.concat([named, named])))).toBe(true);
  }, 60_000);

  it('fails before any byte on what is not gzip, with gunzip\'s words', async () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from('plain text\n'), Buffer.from([0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 3]), Buffer.from([0x1f, 0x8b, 8, 0xe0, 0, 0, 0, 0, 0, 3])]) {
      const got = await read(write(bytes), 1 << 16);
      expect(got.out.length).toBe(0);
      let oracle = '';
      try {
        zlib.gunzipSync(bytes);
      } catch (err) {
        oracle = (err as Error).message;
      }
      expect(got.error).toBe(oracle);
    }
  });
});
