/**
 * An archive file vouches for its own pages. Parquet has a place for a CRC per page, but
 * hyparquet-writer does not write it and hyparquet does not check it, so a file whose bytes
 * changed on disk (a bad sector, a copy cut short and patched, a tool that rewrote it) could
 * replay to other outputs without a word: changed bytes inside a compressed page often still
 * decompress. So the writer hashes every byte it writes up to the end of the last row group
 * (the magic and every page) and puts `<bytes>:<SHA-256 hex>` into the file's own key-value
 * metadata under DATA_DIGEST_KEY; a full read of the file hashes the same bytes first and
 * refuses the file when they differ. Other readers (pyarrow, DuckDB, Polars) ignore the key.
 *
 * Not covered: the page indexes and the footer after the pages (their damage makes the
 * footer or an index unreadable, which the reader already says), except the recv_ns
 * statistics a ranged replay skips by (RECV_SPANS_KEY). Files without the key
 * (written before it, or by other tools) are read unchecked, and so are files another tool
 * wrote with the key: pyarrow's read_table then write_table carries the key-value metadata
 * over onto pages of its own, so the key vouches for nothing there (archive-read's pageDigest).
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import type { AsyncBuffer } from 'hyparquet';
import { ByteWriter, type Writer } from 'hyparquet-writer';

export const DATA_DIGEST_KEY = 'tapedeck.data_sha256';

/**
 * The footer's part that a reader trusts without reading pages: each row group's least and
 * greatest recv_ns (`min-max`, comma-separated, in row-group order), as written. A replay with
 * --start/--end skips files and row groups by their recv_ns statistics, which lie in the
 * footer, after the pages the digest covers: one flipped bit there dropped a whole file from a
 * ranged replay without a word. The reader holds the statistics to this key (archive-read).
 */
export const RECV_SPANS_KEY = 'tapedeck.recv_ns_spans';

/** Bytes buffered before they go to the file. */
const FLUSH_BYTES = 1 << 20;

/** A file writer for hyparquet-writer that hashes what it writes; `digest()` seals what was written so far. */
export function hashingFileWriter(file: string): { writer: Writer; digest(): string } {
  const writer = new ByteWriter();
  const hash: Hash = createHash('sha256');
  fs.writeFileSync(file, '', { flag: 'w' });
  const flush = (): void => {
    const chunk = new Uint8Array(writer.buffer, 0, writer.index);
    hash.update(chunk);
    fs.writeFileSync(file, chunk, { flag: 'a' });
    writer.index = 0;
  };
  const grow = writer.ensure.bind(writer);
  writer.ensure = (size: number): void => {
    if (writer.index > FLUSH_BYTES) flush();
    grow(size);
  };
  writer.finish = flush;
  return {
    writer,
    digest: () => `${writer.offset}:${hash.copy().update(new Uint8Array(writer.buffer, 0, writer.index)).digest('hex')}`,
  };
}

/**
 * Undefined when the file's pages are the bytes its writer hashed (`written`, the file's
 * DATA_DIGEST_KEY; or it has none);
 * otherwise what is wrong, for the reader's "cannot read <file>: …" line.
 */
export function damage(buf: AsyncBuffer, written: string | undefined): string | undefined {
  if (written === undefined) return undefined;
  const m = /^(\d+):([0-9a-f]{64})$/.exec(written);
  const bytes = m === null ? NaN : Number(m[1]);
  if (m === null || bytes > buf.byteLength) return `its ${DATA_DIGEST_KEY} ${JSON.stringify(written)} does not fit the file (damaged)`;
  const hash = createHash('sha256');
  for (let at = 0; at < bytes; at += FLUSH_BYTES) hash.update(new Uint8Array(buf.slice(at, Math.min(bytes, at + FLUSH_BYTES)) as ArrayBuffer));
  return hash.digest('hex') === m[2] ? undefined : `the file is damaged: its first ${bytes} bytes (its pages) are not those written (SHA-256 differs from its ${DATA_DIGEST_KEY})`;
}
