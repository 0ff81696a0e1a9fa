/**
 * The read side of the raw archive (see archive.ts for its layout): listing its files,
 * their row counts and first rows, and streaming a file's rows back as LogEvents.
 *
 * A file is read one row group at a time, column by column (hyparquet's lazy scan), and
 * its LogEvents are built in small batches from those columns. So memory is bounded by
 * one row group per open file, whatever the archive's length, and a replay pays for
 * one object per event, not a row object and then a LogEvent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parquetMetadataAsync, parquetScan, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { DATA_DIGEST_KEY, RECV_SPANS_KEY, damage } from './archive-digest.ts';
import { isLogKind, type LogEvent, type LogKind } from '../log/event.ts';
import { ArchiveError } from './archive.ts';
import { CREATED_BY, READ_OPTIONS } from './parquet.ts';
import { TABLE_NAMES } from '../engine/rows.ts';

const LAYOUT = '<archive>/venue=<exchange>/date=<yyyy-mm-dd>/<session>-<n>.parquet';

/**
 * The archive a folder holds: the folder itself, or the `raw/` folder inside it when it is a
 * `record --out` or `import --out` folder. Replay reads it, import writes into it.
 */
export function archiveRoot(dir: string): string {
  const raw = path.join(dir, 'raw');
  if (!fs.existsSync(raw) || !fs.statSync(raw).isDirectory()) return dir;
  // An import into the folder before a record or demo made raw/ there: read raw/ alone, those would be left out without a word.
  const beside = fs.readdirSync(dir).filter((n) => n.startsWith('venue=')).sort();
  if (beside.length > 0) {
    throw new ArchiveError(`${dir} holds an archive in raw/ and archive folders beside it (${beside.join(', ')}), which a replay of raw/ would leave out: move them into ${raw} to replay them with it, or raw/ out of ${dir} to replay them apart`);
  }
  return raw;
}

/** The archive a replay's --from names: a folder's (archiveRoot), or the one a file of it sits in (LAYOUT). */
export function archiveOf(from: string): string {
  if (fs.statSync(from).isDirectory()) return archiveRoot(from);
  const date = path.dirname(from);
  const venue = path.dirname(date);
  return path.basename(date).startsWith('date=') && path.basename(venue).startsWith('venue=') ? path.dirname(venue) : date;
}

/**
 * The `.parquet` files below `dir` (`.PARQUET` too: another tool's), temp files skipped
 * (none when `dir` does not exist). Symbolic links are followed, to files and folders alike
 * (an archive put together from links lost them silently), each real folder once (a link back
 * up is no endless walk).
 */
function parquetFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (d: string): void => {
    const real = fs.realpathSync(d);
    if (seen.has(real)) return;
    seen.add(real);
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = e.isSymbolicLink() ? followed(p, !archivePart(e.name)) : e;
      if (st?.isDirectory()) walk(p);
      else if (st?.isFile() && DATA_FILE.test(e.name)) out.push(p);
    }
  };
  if (fs.existsSync(dir) && fs.statSync(dir).isDirectory()) walk(dir);
  return out.sort();
}

/** A data file's name: `.parquet` (`.PARQUET` too), not hidden (a temp file). */
const DATA_FILE = /^[^.].*\.parquet$/i;
/** Names of an archive's parts (LAYOUT): venue and date folders, data files. */
function archivePart(name: string): boolean {
  return /^(?:venue|date)=/.test(name) || DATA_FILE.test(name);
}

/**
 * What the link `p` in an archive points to. A link named as a part of the archive (a venue
 * or date folder, a data file) to nothing (a disk that is not mounted, a file moved away), or
 * that cannot be followed, is the archive missing a part: said, not skipped (a date folder
 * linked to an unmounted disk dropped an exchange's events without a word). Another name's
 * (`latest`, notes, a temp file) is not the archive's: undefined, as before.
 */
function followed(p: string, other: boolean): fs.Stats | undefined {
  try {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st !== undefined || other) return st;
  } catch (err) {
    if (other) return undefined;
    throw new ArchiveError(`${p} is a link that cannot be followed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): a part of the archive cannot be read`);
  }
  throw new ArchiveError(`${p} links to ${fs.readlinkSync(p)}, which does not exist: a part of the archive is missing`);
}

/**
 * Every archive file below `root`, sorted by path; temp files are skipped. A `record --out`
 * or `import --out` folder is accepted too: its archive is the `raw/` folder inside it.
 */
export function listArchiveFiles(root: string): string[] {
  if (!fs.existsSync(root)) throw new ArchiveError(`archive not found: ${root}`);
  if (fs.statSync(root).isFile()) return [root];
  const dir = archiveRoot(root);
  // A run's output folder given for an archive: its tables were read as archive files ("row 0 is not a tapedeck LogEvent").
  const tables = TABLE_NAMES.filter((t) => fs.existsSync(path.join(dir, `${t}.parquet`)));
  if (tables.length > 0) {
    const why = fs.existsSync(path.join(dir, 'manifest.json')) ? '' : '; it has no manifest.json: that run failed or was cut short';
    throw new ArchiveError(`${root} is a run's output folder (it holds ${tables.slice(0, 3).map((t) => `${t}.parquet`).join(', ')}${tables.length > 3 ? ', …' : ''}), not an archive${why}: give the archive the run read`);
  }
  const out = parquetFilesUnder(dir);
  if (out.length === 0) throw new ArchiveError(`no .parquet files in archive ${root} (expected ${LAYOUT}, or a record/import --out folder holding raw/)`);
  return out;
}

/** The files an archive holds of one session (`<session>-<n>.parquet`), sorted by path. */
export function sessionFiles(root: string, session: string): string[] {
  const name = new RegExp(`^${session.replace(/[.]/g, '\\.')}-\\d{12}\\.parquet$`);
  return parquetFilesUnder(root).filter((f) => name.test(path.basename(f)));
}

/** The columns a LogEvent is made of, in the order batches read them. */
const COLUMNS = ['session', 'ingest_seq', 'recv_ns', 'exchange', 'conn', 'kind', 'payload', 'meta'] as const;

/** LogEvents per batch built from a row group's columns: small enough to stay in the young generation. */
export const BATCH_ROWS = 4096;

/** A file's identity and first row: enough to merge it lazily, before reading it. */
export interface ArchiveFileHead {
  readonly file: string;
  readonly rows: number;
  /** The first row's place in the replay order: its session, ingest_seq, recv_ns and kind (the other fields empty). */
  readonly first: LogEvent;
  /**
   * What the file holds, in a word: its own DATA_DIGEST_KEY (bytes and SHA-256 of its pages);
   * undefined for a file without one (another tool's, or tapedeck's from before the digest).
   */
  readonly digest: string | undefined;
  /**
   * The least and greatest recv_ns of its rows, from its row groups' statistics (tapedeck
   * writes them, archive.ts); undefined when a row group has none (another tool's file).
   */
  readonly recvNs?: RecvSpan;
}

/** Receive times, least and greatest, of a file or a row group. */
export interface RecvSpan {
  readonly min: bigint;
  readonly max: bigint;
}

/** Receive times [startNs, endNs) a reader wants; either end open. */
export interface RecvWindow {
  readonly startNs?: bigint;
  readonly endNs?: bigint;
}

/** Whether rows with receive times in `span` can fall in `w` (an unknown span always can). */
export function overlaps(span: RecvSpan | undefined, w: RecvWindow): boolean {
  if (span === undefined) return true;
  return (w.startNs === undefined || span.max >= w.startNs) && (w.endNs === undefined || span.min < w.endNs);
}

/**
 * Each row group's receive times from its recv_ns statistics, undefined where it has none, or
 * all undefined (read every row group, filter the rows) when a file tapedeck wrote with
 * RECV_SPANS_KEY says other spans: a ranged replay skips by them, and a flipped bit there
 * dropped a whole file's rows from it without a word. Either the statistics or the key is
 * damaged; the rows themselves are checked by the page digest when they are read.
 */
function groupSpans(metadata: FileMetaData): (RecvSpan | undefined)[] {
  const spans = metadata.row_groups.map((g) => {
    const st = g.columns.find((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === 'recv_ns')?.meta_data?.statistics;
    const min = st?.min_value ?? st?.min;
    const max = st?.max_value ?? st?.max;
    return typeof min === 'bigint' && typeof max === 'bigint' && min <= max ? { min, max } : undefined;
  });
  const written = metadata.created_by === CREATED_BY ? metadata.key_value_metadata?.find((e) => e.key === RECV_SPANS_KEY)?.value : undefined;
  if (written !== undefined && written !== spans.map((s) => (s ? `${s.min}-${s.max}` : '?')).join(',')) return spans.map(() => undefined);
  return spans;
}

/**
 * Whether the row group holding a row (by its index in the file) may hold rows in `window`,
 * by its recv_ns statistics.
 */
function rowGroupsIn(metadata: FileMetaData, window: RecvWindow): (row: number) => boolean {
  const spans = groupSpans(metadata);
  const starts: number[] = [];
  for (let g = 0, at = 0; g < metadata.row_groups.length; at += Number(metadata.row_groups[g]!.num_rows), g++) starts.push(at);
  return (row) => {
    // The row group the row lies in: the last that starts at or before it.
    let g = starts.length - 1;
    while (g > 0 && starts[g]! > row) g--;
    return overlaps(spans[g], window);
  };
}

/** The file's receive times: every row group's, joined; undefined if one has none. */
function fileSpan(spans: readonly (RecvSpan | undefined)[]): RecvSpan | undefined {
  let min: bigint | undefined;
  let max: bigint | undefined;
  for (const s of spans) {
    if (s === undefined) return undefined;
    if (min === undefined || s.min < min) min = s.min;
    if (max === undefined || s.max > max) max = s.max;
  }
  return min === undefined || max === undefined ? undefined : { min, max };
}

/** An open archive file: its bytes as hyparquet reads them, and its footer. */
interface OpenFile {
  readonly buf: AsyncBuffer;
  readonly metadata: FileMetaData;
  close(): void;
}

/**
 * The file's bytes through one descriptor, read with positioned reads. hyparquet's own
 * `asyncBufferFromFile` opens a read stream (open, read, close, and a stream's events) for
 * every slice it asks for — one per column per page range.
 */
function fileBuffer(file: string): { buf: AsyncBuffer; close(): void } {
  const fd = fs.openSync(file, 'r');
  const size = fs.fstatSync(fd).size;
  const buf: AsyncBuffer = {
    byteLength: size,
    slice(start: number, end: number = size): ArrayBuffer {
      const out = new Uint8Array(Math.max(0, end - start));
      for (let at = 0; at < out.length;) {
        const n = fs.readSync(fd, out, at, out.length - at, start + at);
        if (n === 0) throw new Error(`unexpected end of file at byte ${start + at} of ${size}`);
        at += n;
      }
      return out.buffer;
    },
  };
  return { buf, close: () => fs.closeSync(fd) };
}

async function open(file: string): Promise<OpenFile> {
  let handle: ReturnType<typeof fileBuffer> | undefined;
  try {
    handle = fileBuffer(file);
    // Shorter than its two magic numbers and the footer's length: hyparquet would say "Offset is outside the bounds of the DataView".
    if (handle.buf.byteLength < 12) throw new Error(`${handle.buf.byteLength} bytes, too short to be a Parquet file (a file cut short, or an empty one)`);
  } catch (err) {
    handle?.close();
    throw new ArchiveError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return { ...handle, metadata: await parquetMetadataAsync(handle.buf) };
  } catch (err) {
    handle.close();
    throw new ArchiveError(`cannot read ${file}: not a Parquet file, or its footer is damaged (${(err as Error).message})`);
  }
}

function notLogEvent(file: string, row: number, what: string): ArchiveError {
  return new ArchiveError(`${file}: row ${row} is not a tapedeck LogEvent (${what}); an archive is laid out as ${LAYOUT}`);
}

/**
 * The file's own page digest (DATA_DIGEST_KEY), when tapedeck wrote the file. A tool that
 * rewrites a file (pyarrow's read_table then write_table, a pandas round trip) carries the
 * key-value metadata over, and the digest with it, onto pages of its own: there it vouches
 * for nothing, so the file is read as another tool's (unchecked) and known by its bytes.
 * Before, such a file was called damaged, and once a replay had cached it, rows cut from it
 * afterwards were still replayed, from the decoded-event cache, as if it were the original.
 */
export function pageDigest(metadata: FileMetaData): string | undefined {
  return metadata.created_by === CREATED_BY ? metadata.key_value_metadata?.find((e) => e.key === DATA_DIGEST_KEY)?.value : undefined;
}

/** The columns that place an event in replay order, and its kind (checked as a LogEvent's). */
const ORDER_COLUMNS = ['session', 'ingest_seq', 'recv_ns', 'kind'] as const;

/**
 * Row count, digest, receive times and first row of an archive file (undefined when it has
 * no rows), from its footer and the first page of the four columns that place a row in the
 * replay's order. The first row keeps only those (exchange, conn, payload and meta are left
 * empty): a month of a recorder's one-minute files is ~130k heads, held for the whole replay
 * and handed to its reader thread, and the payload column's first page was the most of a
 * head's reading (1.4 ms a file before).
 */
export async function archiveFileHead(file: string): Promise<ArchiveFileHead | undefined> {
  const { buf, metadata, close } = await open(file);
  try {
    const digest = pageDigest(metadata);
    const rows = Number(metadata.num_rows);
    if (rows === 0) return undefined;
    for (const c of COLUMNS.slice(0, 3)) {
      if (!metadata.schema.some((s) => s.name === c)) throw notLogEvent(file, 0, `no ${c} column`);
    }
    let scan: Awaited<ReturnType<typeof parquetScan>>;
    try {
      scan = await parquetScan({ file: buf, metadata, columns: [...ORDER_COLUMNS], ...READ_OPTIONS });
    } catch (err) {
      throw notLogEvent(file, 0, (err as Error).message);
    }
    let cols: ArrayLike<unknown>[];
    try {
      cols = await Promise.all(ORDER_COLUMNS.map((column) => scan.readColumn({ column, rowStart: 0, rowEnd: 1 }) as Promise<ArrayLike<unknown>>));
    } catch (err) {
      throw new ArchiveError(`cannot read ${file}: ${(err as Error).message}`);
    }
    const [s, q, r, k] = cols.map((c) => c[0]);
    if (typeof s !== 'string' || typeof q !== 'bigint' || typeof r !== 'bigint' || typeof k !== 'string' || !isLogKind(k)) {
      throw notLogEvent(file, 0, 'missing or mistyped session/ingest_seq/recv_ns/kind');
    }
    const first: LogEvent = { session: s, ingestSeq: Number(q), recvNs: r, exchange: '', conn: '', kind: k, payload: '', meta: '' };
    const recvNs = fileSpan(groupSpans(metadata));
    return { file, rows, first, digest, ...(recvNs !== undefined ? { recvNs } : {}) };
  } finally {
    close();
  }
}

/**
 * One archive file's LogEvents in file order, in batches of at most `batchRows`. Each row
 * group is read whole (one decompression per page), and events are made from it lazily. With
 * `window`, row groups whose recv_ns statistics say none of their rows is in it are not read
 * (the others are read whole: the caller still filters rows).
 */
export async function* archiveFileBatches(file: string, opts: { batchRows?: number; window?: RecvWindow } = {}): AsyncGenerator<LogEvent[]> {
  const batchRows = opts.batchRows ?? BATCH_ROWS;
  const { buf, metadata, close } = await open(file);
  try {
    // The pages are checked against the file's own digest before any is read.
    const wrong = damage(buf, pageDigest(metadata));
    if (wrong !== undefined) throw new ArchiveError(`cannot read ${file}: ${wrong}`);
    let scan: Awaited<ReturnType<typeof parquetScan>>;
    try {
      scan = await parquetScan({ file: buf, metadata, columns: [...COLUMNS], ...READ_OPTIONS });
    } catch (err) {
      throw notLogEvent(file, 0, (err as Error).message);
    }
    const wanted = opts.window === undefined ? undefined : rowGroupsIn(metadata, opts.window);
    for (const range of scan.ranges) {
      if (wanted !== undefined && !wanted(range.rowStart)) continue;
      // A row group is read in slices of pages (through its offset index), so a reader holds
      // one slice per open file, not a whole row group.
      for (let from = range.rowStart; from < range.rowEnd; from += SLICE_ROWS) {
        const to = Math.min(range.rowEnd, from + SLICE_ROWS);
        yield* sliceBatches(file, scan, from, to, batchRows);
      }
    }
  } finally {
    close();
  }
}

/** Rows per read: a few pages of the payload column. */
const SLICE_ROWS = 16_384;

async function* sliceBatches(file: string, scan: Awaited<ReturnType<typeof parquetScan>>, from: number, to: number, batchRows: number): AsyncGenerator<LogEvent[]> {
  let cols: unknown[][];
  try {
    cols = (await Promise.all(COLUMNS.map((column) => scan.readColumn({ column, rowStart: from, rowEnd: to })))) as unknown[][];
  } catch (err) {
    throw new ArchiveError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const [session, seq, recv, exchange, conn, kind, payload, meta] = cols as [
    unknown[], ArrayLike<unknown>, ArrayLike<unknown>, unknown[], unknown[], unknown[], unknown[], unknown[],
  ];
  const n = to - from;
  // ingest_seq read as a number straight from its 64-bit words (little-endian, as every
  // platform Node runs on; the value is far below 2^53), not through a BigInt per row.
  const seqWords = seq instanceof BigInt64Array ? new Int32Array(seq.buffer, seq.byteOffset, 2 * seq.length) : undefined;
  for (let at = 0; at < n; at += batchRows) {
    const end = Math.min(n, at + batchRows);
    const out: LogEvent[] = new Array<LogEvent>(end - at);
    for (let i = at; i < end; i++) {
      const s = session[i];
      const q = seqWords !== undefined ? seqWords[2 * i + 1]! * 4294967296 + (seqWords[2 * i]! >>> 0) : seq[i];
      const r = recv[i];
      const k = kind[i];
      if (typeof s !== 'string' || (typeof q !== 'bigint' && seqWords === undefined) || typeof r !== 'bigint' || typeof k !== 'string' || !isLogKind(k)) {
        throw notLogEvent(file, from + i, 'missing or mistyped session/ingest_seq/recv_ns/kind');
      }
      out[i - at] = {
        session: s, ingestSeq: Number(q), recvNs: r, exchange: str(exchange[i]), conn: str(conn[i]),
        kind: k as LogKind, payload: str(payload[i]), meta: str(meta[i]),
      };
    }
    yield out;
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
}

/** Reads one archive file's LogEvents in file order (whole; for small files and tools). */
export async function readArchiveFile(file: string): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  for await (const batch of archiveFileBatches(file)) for (const ev of batch) out.push(ev);
  return out;
}
