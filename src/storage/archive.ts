/**
 * The raw archive: LogEvents as Parquet, partitioned as
 * `<root>/venue=<exchange>/date=<yyyy-mm-dd>/<session>-<n>.parquet` (date of receive time, UTC),
 * one row per LogEvent, rotated by row count. `n` is the first ingest_seq in the file.
 *
 * Times stay plain INT64 nanoseconds: DuckDB truncates TIMESTAMP(NANOS, UTC) to µs.
 *
 * The folder key is `venue`, not `exchange` (as DESIGN.md has it): the files carry an
 * `exchange` column, and pyarrow's and pandas' default hive discovery refuse a folder key
 * that repeats a column ("Unable to merge: Field exchange has incompatible types"). Ticks,
 * which belong to no exchange, live under `venue=all`.
 *
 * Layout inside a file, chosen by measurement (test/bench/archive-codecs.ts): ZSTD pages
 * (src/storage/codecs.ts); dictionary encoding for the low-cardinality columns (session,
 * exchange, conn, kind; meta when it pays); DELTA_BINARY_PACKED for ingest_seq and recv_ns,
 * which only grow; rows in ingest order, so a file is a contiguous slice of the session.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CompressionCodec, Encoding } from 'hyparquet';
import { ParquetWriter, schemaFromColumnData } from 'hyparquet-writer';
import type { LogEvent, LogKind } from '../log/event.ts';
import { nsToDate } from '../log/time.ts';
import { DATA_DIGEST_KEY, RECV_SPANS_KEY, hashingFileWriter } from './archive-digest.ts';
import { ARCHIVE_CODEC, ARCHIVE_COMPRESSORS } from './codecs.ts';
import { CREATED_BY, tempName, type Column } from './parquet.ts';
import { TapedeckError } from '../errors.ts';

export const ARCHIVE_COLUMNS: readonly Column[] = [
  { name: 'session', type: 'STRING' },
  { name: 'ingest_seq', type: 'INT64' },
  { name: 'recv_ns', type: 'INT64' },
  { name: 'exchange', type: 'STRING' },
  { name: 'conn', type: 'STRING' },
  { name: 'kind', type: 'STRING' },
  { name: 'payload', type: 'STRING' },
  { name: 'meta', type: 'STRING' },
];

export const ARCHIVE_FORMAT = 'tapedeck.raw.v1';

/** How each column is encoded; `undefined` lets hyparquet-writer pick (dictionary when it halves the size). */
export const ARCHIVE_ENCODINGS: Readonly<Record<string, Encoding | undefined>> = {
  session: 'RLE_DICTIONARY', ingest_seq: 'DELTA_BINARY_PACKED', recv_ns: 'DELTA_BINARY_PACKED',
  exchange: 'RLE_DICTIONARY', conn: 'RLE_DICTIONARY', kind: 'RLE_DICTIONARY', payload: 'PLAIN', meta: undefined,
};

/** Min/max statistics only where a reader can prune with them (times and sequence numbers). */
const STATISTICS = new Set(['ingest_seq', 'recv_ns']);

const SCHEMA = schemaFromColumnData({ columnData: ARCHIVE_COLUMNS.map((c) => ({ name: c.name, type: c.type as 'STRING' | 'INT64', nullable: false, data: [] })) });

export interface ArchiveWriterOptions {
  /** Rows per file before it rotates (default 250,000). */
  readonly maxRows?: number;
  /** Rows per row group: what the writer holds in memory per open file (default 50,000). */
  readonly rowGroupRows?: number;
  /** A row group also ends once its payload and meta text reach this many characters (default 2 MiB). */
  readonly rowGroupChars?: number;
  /** Page codec (default ARCHIVE_CODEC); the benchmark compares others. */
  readonly codec?: CompressionCodec;
  readonly compressors?: typeof ARCHIVE_COMPRESSORS;
  /** Override column encodings (benchmark). */
  readonly encodings?: Readonly<Record<string, Encoding | undefined>>;
  /** Target uncompressed page size, bytes (default 1 MiB). */
  readonly pageSize?: number;
}

/** The rows of the row group being filled, as columns. */
class RowGroup {
  /** Numbers, not BigInts: hyparquet-writer delta-packs them without BigInt arithmetic (same bytes). */
  seq: number[] = [];
  recv: bigint[] = [];
  exchange: string[] = [];
  conn: string[] = [];
  kind: string[] = [];
  /** Text, or its UTF-8 when a writer thread was handed it encoded (writeEncoded). */
  payload: (string | Uint8Array)[] = [];
  meta: string[] = [];
  chars = 0;
  get length(): number {
    return this.seq.length;
  }
}

/** One archive file being written: a temp file that becomes `file` on finish. */
class OpenFile {
  readonly tmp: string;
  readonly writer: ParquetWriter;
  rows = 0;
  group = new RowGroup();
  private readonly kv = [{ key: 'format', value: ARCHIVE_FORMAT }];
  private readonly digest: () => string;
  /** Each row group's `min-max` recv_ns, as its statistics say (RECV_SPANS_KEY). */
  readonly spans: string[] = [];

  constructor(readonly file: string, o: Required<Pick<ArchiveWriterOptions, 'codec' | 'compressors'>>) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.tmp = tempName(file);
    const out = hashingFileWriter(this.tmp);
    this.digest = out.digest;
    this.writer = new ParquetWriter({ writer: out.writer, schema: SCHEMA, codec: o.codec, compressors: o.compressors, createdBy: CREATED_BY, kvMetadata: this.kv });
  }

  /** Writes the footer, which carries the digest of every page before it (archive-digest.ts). */
  finish(): void {
    this.kv.push({ key: DATA_DIGEST_KEY, value: this.digest() }, { key: RECV_SPANS_KEY, value: this.spans.join(',') });
    void this.writer.finish();
  }
}

/**
 * Writes one session's LogEvents into the archive as they come: each partition has one
 * open file whose current row group is the only thing held in memory; a full row group is
 * encoded and appended, a full file is finished and renamed into place. Call `close()` to
 * finish every open file, or `abort()` to remove everything this writer made.
 */
export class ArchiveWriter {
  private readonly open = new Map<string, OpenFile>();
  readonly written: string[] = [];
  private readonly maxRows: number;
  private readonly rowGroupRows: number;
  private readonly rowGroupChars: number;
  private readonly codec: CompressionCodec;
  private readonly compressors: typeof ARCHIVE_COMPRESSORS;
  private readonly encodings: Readonly<Record<string, Encoding | undefined>>;
  private readonly pageSize: number;
  /** Partition of the last event per exchange, valid while receive times stay within its UTC day. */
  private readonly dayCache = new Map<string, { part: string; fromNs: bigint; toNs: bigint }>();

  constructor(private readonly root: string, private readonly session: string, opts: ArchiveWriterOptions = {}) {
    this.maxRows = opts.maxRows ?? 250_000;
    this.rowGroupRows = Math.min(opts.rowGroupRows ?? 50_000, this.maxRows);
    this.rowGroupChars = opts.rowGroupChars ?? 2 << 20;
    this.codec = opts.codec ?? ARCHIVE_CODEC;
    this.compressors = opts.compressors ?? ARCHIVE_COMPRESSORS;
    this.encodings = opts.encodings ?? ARCHIVE_ENCODINGS;
    this.pageSize = opts.pageSize ?? 1 << 20;
    checkSessionId(session);
  }

  write(ev: LogEvent): void {
    this.add(ev.ingestSeq, ev.recvNs, ev.exchange, ev.conn, ev.kind, ev.meta, ev.payload, ev.payload.length);
  }

  /**
   * `write` of a row, given field by field, whose payload is already UTF-8 (`chars`: its
   * length as text, which cuts row groups as the text would): the same file bytes as writing
   * the text. Fields, not an object: the writer thread builds no object per row.
   */
  writeEncoded(ingestSeq: number, recvNs: bigint, exchange: string, conn: string, kind: LogKind, meta: string, payload: Uint8Array, chars: number): void {
    this.add(ingestSeq, recvNs, exchange, conn, kind, meta, payload, chars);
  }

  private add(ingestSeq: number, recvNs: bigint, exchange: string, conn: string, kind: LogKind, meta: string, payload: string | Uint8Array, chars: number): void {
    const part = this.partition(exchange, recvNs);
    let f = this.open.get(part);
    if (f === undefined) {
      // Named by the first ingest_seq it holds: re-archiving the same rows (recovery after a
      // crash mid-roll) rewrites the same file instead of adding a duplicate.
      const file = path.join(this.root, part, `${this.session}-${String(ingestSeq).padStart(12, '0')}.parquet`);
      this.open.set(part, (f = new OpenFile(file, { codec: this.codec, compressors: this.compressors })));
    }
    const g = f.group;
    g.seq.push(ingestSeq);
    g.recv.push(recvNs);
    g.exchange.push(exchange);
    g.conn.push(conn);
    g.kind.push(kind);
    g.payload.push(payload);
    g.meta.push(meta);
    g.chars += chars + meta.length;
    f.rows++;
    try {
      if (g.length >= this.rowGroupRows || g.chars >= this.rowGroupChars) this.writeGroup(f);
      if (f.rows >= this.maxRows) this.finish(part);
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Finishes every open file, in partition-name order (the next event starts new files). */
  flush(): void {
    try {
      for (const part of [...this.open.keys()].sort()) this.finish(part);
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  close(): string[] {
    this.flush();
    return this.written;
  }

  /**
   * Removes every file this writer made, finished or not: after a failure, no partial
   * archive and no temp file is left. A failing write or flush calls it before rethrowing.
   */
  abort(): void {
    for (const f of this.open.values()) fs.rmSync(f.tmp, { force: true });
    this.open.clear();
    for (const file of this.written.splice(0)) fs.rmSync(file, { force: true });
  }

  private partition(exchange: string, recvNs: bigint): string {
    const c = this.dayCache.get(exchange);
    if (c !== undefined && recvNs >= c.fromNs && recvNs < c.toNs) return c.part;
    const date = nsToDate(recvNs);
    const fromNs = BigInt(Date.parse(`${date}T00:00:00Z`)) * 1_000_000n;
    const part = path.join(`venue=${exchange || 'all'}`, `date=${date}`);
    this.dayCache.set(exchange, { part, fromNs, toNs: fromNs + 86_400_000_000_000n });
    return part;
  }

  private writeGroup(f: OpenFile): void {
    const g = f.group;
    if (g.length === 0) return;
    f.group = new RowGroup();
    const data: Record<string, unknown[]> = {
      session: new Array<string>(g.length).fill(this.session), ingest_seq: g.seq, recv_ns: g.recv,
      exchange: g.exchange, conn: g.conn, kind: g.kind, payload: utf8Views(g.payload), meta: g.meta,
    };
    const columnData = ARCHIVE_COLUMNS.map(({ name }) => {
      const encoding = this.encodings[name];
      return { name, data: data[name] as never, statistics: STATISTICS.has(name), ...(encoding ? { encoding } : {}) };
    });
    // rowGroupSize = the group's length: the bytes depend on the rows alone.
    void f.writer.write({ columnData, rowGroupSize: g.length, pageSize: this.pageSize });
    let [min, max] = [g.recv[0]!, g.recv[0]!];
    for (const r of g.recv) {
      if (r < min) min = r;
      if (r > max) max = r;
    }
    f.spans.push(`${min}-${max}`);
  }

  private finish(part: string): void {
    const f = this.open.get(part);
    if (f === undefined) return;
    this.open.delete(part);
    try {
      this.writeGroup(f);
      f.finish();
      fs.renameSync(f.tmp, f.file);
    } catch (err) {
      fs.rmSync(f.tmp, { force: true });
      throw err;
    }
    this.written.push(f.file);
  }
}

/** A session id names files: letters, digits, '.', '_' and '-' only. */
export function checkSessionId(session: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(session)) throw new Error(`session id ${JSON.stringify(session)} may use only letters, digits, '.', '_' and '-'`);
}

/**
 * The strings as UTF-8, each a view into one buffer: hyparquet-writer would otherwise encode
 * every value into an array of its own (one allocation per row). Same bytes as TextEncoder,
 * lone surrogates included (both write U+FFFD). Values already UTF-8 are kept as they are.
 */
export function utf8Views(values: readonly (string | Uint8Array)[]): Uint8Array[] {
  let units = 0;
  for (const s of values) if (typeof s === 'string') units += s.length;
  // A UTF-16 code unit never takes more than 3 bytes of UTF-8.
  const buf = Buffer.allocUnsafe(units * 3);
  const out = new Array<Uint8Array>(values.length);
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    const s = values[i]!;
    if (typeof s !== 'string') {
      out[i] = s;
      continue;
    }
    const n = buf.write(s, at, 'utf8');
    out[i] = buf.subarray(at, at + n);
    at += n;
  }
  return out;
}

/** A file that is not a readable tapedeck raw archive file. */
export class ArchiveError extends TapedeckError {}
