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
 */
import path from 'node:path';
import type { LogEvent } from '../log/event.ts';
import { nsToDate } from '../log/time.ts';
import { writeParquet, type Column } from './parquet.ts';

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

export interface ArchiveWriterOptions {
  /** Rows per file before it rotates (default 250,000). */
  readonly maxRows?: number;
}

/** Writes one session's LogEvents into the archive. Call `close()` to flush the rest. */
export class ArchiveWriter {
  private readonly buffers = new Map<string, LogEvent[]>();
  readonly written: string[] = [];
  private readonly maxRows: number;

  constructor(private readonly root: string, private readonly session: string, opts: ArchiveWriterOptions = {}) {
    this.maxRows = opts.maxRows ?? 250_000;
    if (!/^[A-Za-z0-9._-]+$/.test(session)) throw new Error(`session id ${JSON.stringify(session)} may use only letters, digits, '.', '_' and '-'`);
  }

  write(ev: LogEvent): void {
    const part = path.join(`venue=${ev.exchange || 'all'}`, `date=${nsToDate(ev.recvNs)}`);
    let buf = this.buffers.get(part);
    if (buf === undefined) this.buffers.set(part, (buf = []));
    buf.push(ev);
    if (buf.length >= this.maxRows) this.flushPart(part);
  }

  /** Flushes every partition's buffer, in partition-name order. */
  flush(): void {
    for (const part of [...this.buffers.keys()].sort()) this.flushPart(part);
  }

  close(): string[] {
    this.flush();
    return this.written;
  }

  private flushPart(part: string): void {
    const rows = this.buffers.get(part);
    if (!rows || rows.length === 0) return;
    this.buffers.set(part, []);
    // Named by the first ingest_seq it holds: re-archiving the same rows (recovery after a
    // crash mid-roll) rewrites the same file instead of adding a duplicate.
    const file = path.join(this.root, part, `${this.session}-${String(rows[0]!.ingestSeq).padStart(12, '0')}.parquet`);
    writeParquet(file, ARCHIVE_COLUMNS, rows.map(toRow), { format: ARCHIVE_FORMAT });
    this.written.push(file);
  }
}

function toRow(ev: LogEvent): Record<string, unknown> {
  return {
    session: ev.session, ingest_seq: BigInt(ev.ingestSeq), recv_ns: ev.recvNs, exchange: ev.exchange,
    conn: ev.conn, kind: ev.kind, payload: ev.payload, meta: ev.meta,
  };
}

/** A file that is not a readable tapedeck raw archive file. */
export class ArchiveError extends Error {}
