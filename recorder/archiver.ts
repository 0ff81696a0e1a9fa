/**
 * Spool → Parquet archive. `roll` moves every committed event into archive files (temp
 * name, then rename) and only then deletes it from the spool; a crash in between leaves
 * the rows in both, and readers de-duplicate by (session, ingest_seq) — while the file
 * names (first ingest_seq) make a second roll rewrite the same files. `recoverSpools`
 * does the same for spools that a crashed recorder left behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ArchiveWriter } from '../src/storage/archive.ts';
import { Spool } from './spool.ts';

export interface RollResult {
  readonly events: number;
  readonly files: string[];
}

/**
 * Archives every committed event past the `archive` cursor, then moves the cursor and
 * prunes what every consumer (`consumers`: `archive`, and `kafka` when it is on) has.
 */
export function roll(spool: Spool, archiveRoot: string, consumers: readonly string[] = ['archive'], maxRowsPerFile?: number): RollResult {
  let events = 0;
  const files: string[] = [];
  for (const session of spool.sessions()) {
    const w = new ArchiveWriter(archiveRoot, session, maxRowsPerFile ? { maxRows: maxRowsPerFile } : {});
    let cursor = spool.cursor('archive', session);
    for (;;) {
      const batch = spool.after(session, cursor, 50_000);
      if (batch.length === 0) break;
      for (const ev of batch) w.write(ev);
      cursor = batch.at(-1)!.ingestSeq;
      events += batch.length;
    }
    files.push(...w.close());
    spool.setCursor('archive', session, cursor);
    spool.prune(session, consumers);
  }
  return { events, files };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Recovers every spool in `spoolDir` whose recorder is gone (its `.pid` names no live
 * process) into the archive, then removes it. Returns what was recovered, and how many
 * events had not reached Kafka (they are in the archive; say so).
 */
export function recoverSpools(spoolDir: string, archiveRoot: string): { spools: string[]; events: number; files: string[]; undelivered: number } {
  const out = { spools: [] as string[], events: 0, files: [] as string[], undelivered: 0 };
  if (!fs.existsSync(spoolDir)) return out;
  for (const name of fs.readdirSync(spoolDir).filter((n) => n.endsWith('.sqlite')).sort()) {
    const file = path.join(spoolDir, name);
    const pidFile = file.replace(/\.sqlite$/, '.pid');
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : NaN;
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) continue;
    const spool = new Spool(file);
    const r = roll(spool, archiveRoot);
    const undelivered = spool.count();
    spool.close();
    if (undelivered > 0) out.undelivered += undelivered;
    removeSpool(file);
    out.spools.push(file);
    out.events += r.events;
    out.files.push(...r.files);
  }
  return out;
}

export function removeSpool(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, file.replace(/\.sqlite$/, '.pid')]) fs.rmSync(f, { force: true });
}
