/**
 * The read side of the raw archive (see archive.ts for its layout): listing its files,
 * their row counts, and reading a file's rows back as LogEvents.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isLogKind, type LogEvent } from '../log/event.ts';
import { ArchiveError } from './archive.ts';
import { parquetInfo, readParquet } from './parquet.ts';

/** Every archive file below `root`, sorted by path; temp files are skipped. */
export function listArchiveFiles(root: string): string[] {
  if (!fs.existsSync(root)) throw new ArchiveError(`archive not found: ${root}`);
  const st = fs.statSync(root);
  if (st.isFile()) return [root];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.parquet') && !e.name.startsWith('.')) out.push(p);
    }
  };
  walk(root);
  if (out.length === 0) throw new ArchiveError(`no .parquet files in archive ${root}`);
  return out.sort();
}

/** Reads one archive file's LogEvents in file order. */
export async function readArchiveFile(file: string): Promise<LogEvent[]> {
  let rows: Record<string, unknown>[];
  try {
    rows = await readParquet(file);
  } catch (err) {
    throw new ArchiveError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return rows.map((r, i) => fromRow(r, file, i));
}

/** Row count of an archive file, from its footer. */
export async function archiveFileRows(file: string): Promise<number> {
  try {
    return (await parquetInfo(file)).rows;
  } catch (err) {
    throw new ArchiveError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function fromRow(r: Record<string, unknown>, file: string, i: number): LogEvent {
  const kind = String(r.kind);
  if (typeof r.session !== 'string' || typeof r.ingest_seq !== 'bigint' || typeof r.recv_ns !== 'bigint' || !isLogKind(kind)) {
    throw new ArchiveError(`${file}: row ${i} is not a tapedeck LogEvent (missing or mistyped session/ingest_seq/recv_ns/kind)`);
  }
  return {
    session: r.session, ingestSeq: Number(r.ingest_seq), recvNs: r.recv_ns, exchange: String(r.exchange ?? ''),
    conn: String(r.conn ?? ''), kind, payload: String(r.payload ?? ''), meta: String(r.meta ?? ''),
  };
}
