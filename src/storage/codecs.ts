/**
 * Page compression for the raw archive, chosen by measurement (test/bench/archive-codecs.ts
 * prints the table; README has it). ZSTD is the archive's codec: on the real BTCUSDT
 * session it is several times smaller than SNAPPY and smaller than the recorder's own gzip,
 * and pyarrow, pandas, DuckDB and Polars all read it. Level 1, not 9: level 9 took ~60 % of
 * an import's CPU (2.46 MB for the session); level 1 compresses 4–5× faster and is 2.82 MB,
 * still smaller than the gzip files (3.03 MB) and than levels 2–5 (2.80–3.00 MB).
 *
 * Node 20's zlib has no zstd, so ZSTD goes through @bokuweb/zstd-wasm (the reference C
 * library compiled to WebAssembly, shipped inside the npm package: nothing is downloaded at
 * install time). Pages are compressed by zstd-napi instead where it is built (an optional
 * dependency: the same C library, 1.5.7 in both, compiled at install against Node's headers),
 * about twice as fast and byte for byte the same frames (test/unit/codecs.test.ts), and
 * decompressed by it too, 1.6–2.2× faster than the wasm build on pages of 8 KB to 1 MB
 * (a replay's reader thread spent ~7 % of its time in the wasm build's decompression);
 * the wasm build remains the fallback for both. GZIP and BROTLI use node:zlib. SNAPPY and UNCOMPRESSED need nothing here:
 * hyparquet and hyparquet-writer have them built in, so files written before ZSTD still read.
 */
import zlib from 'node:zlib';
import { compress as zstdCompress, decompress as zstdDecompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import type { CompressionCodec } from 'hyparquet';

await zstdInit();

/** The native library when its addon was built at install, else undefined (then the wasm build compresses). */
export const NATIVE_ZSTD = await import('zstd-napi').catch(() => undefined);
/** Its decompression context, reused page after page (decompression is synchronous); undefined without the addon. */
export const NATIVE_DCTX = NATIVE_ZSTD === undefined ? undefined : await import('zstd-napi/binding.js').then((b: { default?: typeof b } & typeof import('zstd-napi/binding.js')) => new (b.default ?? b).DCtx()).catch(() => undefined);

/** hyparquet-writer's compressor: page bytes in, compressed bytes out. */
export type Compressor = (input: Uint8Array) => Uint8Array;
/** hyparquet's decompressor: it also passes the page's uncompressed length. */
export type Decompressor = (input: Uint8Array, outputLength: number) => Uint8Array;

/** The codec new archive files are written with, and its level. */
export const ARCHIVE_CODEC: CompressionCodec = 'ZSTD';
export const ARCHIVE_ZSTD_LEVEL = 1;

/** Compressors for a codec at a given level (the benchmark sweeps levels; the archive uses the defaults). */
export function compressorsAt(level: { zstd?: number; gzip?: number; brotli?: number } = {}): Partial<Record<CompressionCodec, Compressor>> {
  const z = level.zstd ?? ARCHIVE_ZSTD_LEVEL;
  const g = level.gzip ?? 6;
  const b = level.brotli ?? 5;
  return {
    ZSTD: NATIVE_ZSTD !== undefined ? (input) => NATIVE_ZSTD.compress(input, { compressionLevel: z }) : (input) => zstdCompress(input, z),
    GZIP: (input) => zlib.gzipSync(input, { level: g }),
    BROTLI: (input) => zlib.brotliCompressSync(input, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: b, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: input.length },
    }),
  };
}

/** What ArchiveWriter hands hyparquet-writer (`compressors` option). */
export const ARCHIVE_COMPRESSORS = compressorsAt();

/**
 * What every archive reader hands hyparquet (`compressors` option of parquetRead*): the
 * codecs tapedeck has written or may meet in files other tools wrote. SNAPPY is hyparquet's own.
 */
export const ARCHIVE_DECOMPRESSORS: Partial<Record<CompressionCodec, Decompressor>> = {
  ZSTD: (input, outputLength) => {
    const damaged = (why: string): Error => new Error(`a ZSTD page does not decompress (the file is damaged): ${why}`);
    let out: Uint8Array;
    let n: number;
    try {
      if (NATIVE_DCTX === undefined) {
        out = zstdDecompress(input);
        n = out.length;
      } else {
        // Into a buffer of the length the page's header gives, not the one its frame claims:
        // a damaged frame cannot make it allocate more, only fail.
        out = Buffer.allocUnsafe(outputLength);
        n = NATIVE_DCTX.decompress(out, input);
      }
    } catch (err) {
      // zstd-wasm says "Failed to compress with code -20" of a page it cannot decompress.
      throw damaged((err as Error).message.replace(/^Failed to compress/, 'zstd failed'));
    }
    if (n !== outputLength) throw damaged(`${n} bytes where the page's header says ${outputLength}`);
    return out;
  },
  GZIP: (input) => zlib.gunzipSync(input),
  BROTLI: (input) => zlib.brotliDecompressSync(input),
};
