/**
 * Parquet I/O for every table tapedeck writes, through hyparquet-writer and hyparquet:
 * exact INT64 (BigInt) columns, files written to a temp name and renamed so that a reader
 * never sees a half-written file, and deterministic bytes (no wall-clock metadata), so
 * the same rows always give the same file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { parquetWriteFile } from 'hyparquet-writer';

export type ColumnType = 'STRING' | 'INT64' | 'INT32' | 'DOUBLE' | 'BOOLEAN';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** Nullable columns may hold null (indicators before they are stable). */
  readonly nullable?: boolean;
}

export const CREATED_BY = 'tapedeck';

/** Writes rows (objects keyed by column name) as one Parquet file, atomically. */
export function writeParquet(file: string, columns: readonly Column[], rows: readonly Record<string, unknown>[], kv: Record<string, string> = {}): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  const columnData = columns.map((c) => ({
    name: c.name,
    type: c.type,
    nullable: c.nullable ?? false,
    data: rows.map((r) => r[c.name] as never),
  }));
  parquetWriteFile({
    filename: tmp,
    columnData,
    createdBy: CREATED_BY,
    kvMetadata: Object.entries(kv).map(([key, value]) => ({ key, value })),
    // One row group per 100k rows keeps memory flat for readers; rowGroupSize is fixed so
    // the bytes depend on the rows alone.
    rowGroupSize: 100_000,
  });
  fs.renameSync(tmp, file);
}

/** Reads a Parquet file's rows as objects (INT64 as BigInt, strings as strings). */
export async function readParquet(file: string, columns?: string[], rowEnd?: number): Promise<Record<string, unknown>[]> {
  const buf = await asyncBufferFromFile(file);
  return parquetReadObjects({ file: buf, ...(columns ? { columns } : {}), ...(rowEnd !== undefined ? { rowEnd } : {}) });
}

/** Row count and key-value metadata, without reading the data. */
export async function parquetInfo(file: string): Promise<{ rows: number; kv: Record<string, string> }> {
  const meta = await parquetMetadataAsync(await asyncBufferFromFile(file));
  const kv: Record<string, string> = {};
  for (const e of meta.key_value_metadata ?? []) kv[e.key] = e.value ?? '';
  return { rows: Number(meta.num_rows), kv };
}
