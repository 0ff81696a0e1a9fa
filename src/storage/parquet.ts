/**
 * Parquet I/O for every table tapedeck writes, through hyparquet-writer and hyparquet:
 * exact INT64 (BigInt) columns, files written to a temp name and renamed so that a reader
 * never sees a half-written file, and deterministic bytes (no wall-clock metadata), so
 * the same rows always give the same file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { parquetWriteFile, schemaFromColumnData } from 'hyparquet-writer';
import { ARCHIVE_DECOMPRESSORS } from './codecs.ts';

/**
 * What every reader hands hyparquet (`parsers`): strings decoded as written. hyparquet's
 * default is a plain TextDecoder, which drops a leading U+FEFF (a byte-order mark) from each
 * value, so a frame that began with one read back without it.
 */
const TEXT_PARSERS = {
  stringFromBytes: ((utf8: TextDecoder) => (bytes: Uint8Array | undefined) => bytes && utf8.decode(bytes))(new TextDecoder('utf-8', { ignoreBOM: true })),
};

/** What every reader of tapedeck's files hands hyparquet: the archive's codecs and TEXT_PARSERS. */
export const READ_OPTIONS = { compressors: ARCHIVE_DECOMPRESSORS, parsers: TEXT_PARSERS };

/** `TIMESTAMP` is INT64 milliseconds, UTC (TIMESTAMP_MILLIS). */
export type ColumnType = 'STRING' | 'INT64' | 'INT32' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** Nullable columns may hold null (indicators before they are stable). */
  readonly nullable?: boolean;
  /** A column computed from the row rather than read from it (e.g. a UTC timestamp twin). */
  readonly derive?: (row: Record<string, unknown>) => unknown;
}

/** The value of column `c` in `row`. */
export function cell(row: Record<string, unknown>, c: Column): unknown {
  return c.derive ? c.derive(row) : row[c.name];
}

export const CREATED_BY = 'tapedeck';

/**
 * A hidden temp name beside `file`, unique per writer (pid + random suffix): two writers
 * writing the same target never share a temp file, and readers skip dot-files.
 */
export function tempName(file: string): string {
  const rand = Math.floor(Math.random() * 0x1_0000_0000).toString(36);
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${rand}.tmp`);
}

/** Writes rows (objects keyed by column name) as one Parquet file, atomically. */
export function writeParquet(file: string, columns: readonly Column[], rows: readonly Record<string, unknown>[], kv: Record<string, string> = {}): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  const columnData = columns.map((c) => ({
    name: c.name,
    ...(c.type === 'TIMESTAMP' ? {} : { type: c.type, nullable: c.nullable ?? false }),
    data: rows.map((r) => cell(r, c) as never),
  }));
  // TIMESTAMP columns carry the logical type with isAdjustedToUTC, not just the legacy
  // converted type: DuckDB and Polars read the latter as a naive (zone-less) time.
  const schemaOverrides = Object.fromEntries(columns.filter((c) => c.type === 'TIMESTAMP').map((c) => [c.name, {
    name: c.name, type: 'INT64' as const, converted_type: 'TIMESTAMP_MILLIS' as const, repetition_type: 'REQUIRED' as const,
    logical_type: { type: 'TIMESTAMP' as const, isAdjustedToUTC: true, unit: 'MILLIS' as const },
  }]));
  const schema = schemaFromColumnData({ columnData, schemaOverrides });
  try {
    parquetWriteFile({
      filename: tmp,
      columnData: columnData.map(({ name, data }) => ({ name, data })),
      schema,
      createdBy: CREATED_BY,
      kvMetadata: Object.entries(kv).map(([key, value]) => ({ key, value })),
      // One row group per 100k rows keeps memory flat for readers; rowGroupSize is fixed so
      // the bytes depend on the rows alone.
      rowGroupSize: 100_000,
    });
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Reads a Parquet file's rows as objects (INT64 as BigInt, strings as strings). */
export async function readParquet(file: string, columns?: string[], rowEnd?: number): Promise<Record<string, unknown>[]> {
  const buf = await asyncBufferFromFile(file);
  return parquetReadObjects({ file: buf, ...READ_OPTIONS, ...(columns ? { columns } : {}), ...(rowEnd !== undefined ? { rowEnd } : {}) });
}

/** Row count and key-value metadata, without reading the data. */
export async function parquetInfo(file: string): Promise<{ rows: number; kv: Record<string, string> }> {
  const meta = await parquetMetadataAsync(await asyncBufferFromFile(file));
  const kv: Record<string, string> = {};
  for (const e of meta.key_value_metadata ?? []) kv[e.key] = e.value ?? '';
  return { rows: Number(meta.num_rows), kv };
}
