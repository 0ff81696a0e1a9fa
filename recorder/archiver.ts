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

export function roll(spool: Spool, archiveRoot: string, maxRowsPerFile?: number): RollResult {
  const writers = new Map<string, ArchiveWriter>();
  const last = new Map<string, number>();
  let events = 0;
  for (const batch of spool.rows()) {
    for (const ev of batch) {
      let w = writers.get(ev.session);
      if (w === undefined) writers.set(ev.session, (w = new ArchiveWriter(archiveRoot, ev.session, maxRowsPerFile ? { maxRows: maxRowsPerFile } : {})));
      w.write(ev);
      last.set(ev.session, ev.ingestSeq);
      events++;
    }
  }
  const files: string[] = [];
  for (const [session, w] of writers) {
    files.push(...w.close());
    spool.deleteUpTo(session, last.get(session)!);
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
 * process) into the archive, then removes it. Returns what was recovered.
 */
export function recoverSpools(spoolDir: string, archiveRoot: string): { spools: string[]; events: number; files: string[] } {
  const out = { spools: [] as string[], events: 0, files: [] as string[] };
  if (!fs.existsSync(spoolDir)) return out;
  for (const name of fs.readdirSync(spoolDir).filter((n) => n.endsWith('.sqlite')).sort()) {
    const file = path.join(spoolDir, name);
    const pidFile = file.replace(/\.sqlite$/, '.pid');
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : NaN;
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) continue;
    const spool = new Spool(file);
    const r = roll(spool, archiveRoot);
    spool.close();
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
