/**
 * ZSTD pages: the native library (zstd-napi, where its addon was built) writes byte for
 * byte the frames the wasm build writes at the archive's level, on real recorded text and
 * on arbitrary bytes, so an archive does not depend on which of the two a machine has; and
 * it reads back what either wrote, refusing in one line a page that is not what its header
 * says.
 */
import fc from 'fast-check';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { compress as wasmCompress, decompress as wasmDecompress } from '@bokuweb/zstd-wasm';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_COMPRESSORS, ARCHIVE_DECOMPRESSORS, ARCHIVE_ZSTD_LEVEL, NATIVE_DCTX, NATIVE_ZSTD } from '../../src/storage/codecs.ts';
import { REAL, real } from '../helpers.ts';

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

describe('ZSTD page compression', () => {
  it('has the native library (an install that could not build it falls back to wasm: slower, same bytes)', () => {
    expect(NATIVE_ZSTD, 'zstd-napi built at npm install').toBeDefined();
    expect(NATIVE_DCTX, 'and decompresses the archive\'s pages').toBeDefined();
  });

  it.skipIf(!REAL)('native and wasm give the same bytes on the real BTCUSDT text, 1 MiB pages and odd sizes', () => {
    const text = zlib.gunzipSync(fs.readFileSync(real('binance/hftbacktest/btcusdt_20240808.gz')));
    const sizes = [1 << 20, 65_536, 1_000_003, 17];
    for (const size of sizes) {
      for (let at = 0; at + size <= text.length && at < 8 * size; at += size) {
        const page = text.subarray(at, at + size);
        const mine = ARCHIVE_COMPRESSORS.ZSTD!(page);
        expect(same(mine, wasmCompress(page, ARCHIVE_ZSTD_LEVEL)), `page of ${size} bytes at ${at}`).toBe(true);
        expect(same(ARCHIVE_DECOMPRESSORS.ZSTD!(mine, page.length), page)).toBe(true);
      }
    }
  });

  it('native and wasm give the same bytes on arbitrary input', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 5000 }), fc.string({ maxLength: 3000 }).map((s) => new TextEncoder().encode(s.repeat(7)))), (page) => {
      const mine = ARCHIVE_COMPRESSORS.ZSTD!(page);
      expect(same(mine, wasmCompress(page, ARCHIVE_ZSTD_LEVEL))).toBe(true);
      expect(same(wasmDecompress(mine), page)).toBe(true);
    }), { numRuns: 500 });
  });

  it('reads back the pages either build wrote; a page shorter or longer than its header says, or damaged, is one error naming the damage', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 5000 }), fc.string({ minLength: 1, maxLength: 3000 }).map((s) => new TextEncoder().encode(s.repeat(7)))), (page) => {
      const wasm = wasmCompress(page, 9);
      expect(same(ARCHIVE_DECOMPRESSORS.ZSTD!(wasm, page.length), page)).toBe(true);
      for (const wrong of [page.length - 1, page.length + 1]) {
        expect(() => ARCHIVE_DECOMPRESSORS.ZSTD!(wasm, wrong)).toThrow(/^a ZSTD page does not decompress \(the file is damaged\): /);
      }
    }), { numRuns: 300 });
    const frame = Buffer.from(ARCHIVE_COMPRESSORS.ZSTD!(new TextEncoder().encode('{"e":"trade"}'.repeat(100))));
    frame[frame.length - 5]! ^= 0xff;
    expect(() => ARCHIVE_DECOMPRESSORS.ZSTD!(frame, 1300)).toThrow(/^a ZSTD page does not decompress \(the file is damaged\): /);
  });
});
