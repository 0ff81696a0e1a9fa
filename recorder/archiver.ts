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
import type { LogEvent } from '../src/log/event.ts';
import { openLocked, Spool, SpoolBusy, SpoolDamaged } from './spool.ts';

export interface RollResult {
  readonly events: number;
  readonly files: string[];
  /** Batches that did not read back (with `skipDamaged`; the events around them are archived). */
  readonly damaged: SpoolDamaged[];
}

/**
 * Archives every committed event past the `archive` cursor, then moves the cursor and
 * prunes what every consumer (`consumers`: `archive`, and `kafka` when it is on) has.
 * With `skipDamaged`, a batch that does not read back is skipped and listed, the events
 * after it are archived, and its session's cursor and batches stay as they were (nothing is
 * pruned): the spool still holds everything it held.
 */
export function roll(spool: Spool, archiveRoot: string, consumers: readonly string[] = ['archive'], maxRowsPerFile?: number, skipDamaged = false): RollResult {
  let events = 0;
  const files: string[] = [];
  const damaged: SpoolDamaged[] = [];
  for (const session of spool.sessions()) {
    const w = new ArchiveWriter(archiveRoot, session, maxRowsPerFile ? { maxRows: maxRowsPerFile } : {});
    let cursor = spool.cursor('archive', session);
    let whole = true;
    for (;;) {
      let batch: LogEvent[];
      try {
        batch = spool.after(session, cursor, 50_000);
      } catch (err) {
        if (!skipDamaged || !(err instanceof SpoolDamaged)) throw err;
        damaged.push(err);
        whole = false;
        cursor = err.lastSeq;
        continue;
      }
      if (batch.length === 0) break;
      for (const ev of batch) w.write(ev);
      cursor = batch.at(-1)!.ingestSeq;
      events += batch.length;
    }
    files.push(...w.close());
    if (!whole) continue;
    spool.setCursor('archive', session, cursor);
    spool.prune(session, consumers);
  }
  return { events, files, damaged };
}

/**
 * The right to recover the spools of one --out and to create a spool there: held by one
 * recorder at a time, from before it looks at leftover spools until its own spool is open
 * and locked (so a starting recorder never mistakes another's fresh spool for a dead one).
 * An SQLite file in exclusive locking mode, so the lock dies with its process.
 */
export class RecoveryLock {
  private constructor(private readonly db: ReturnType<typeof openLocked>) {}

  /** Takes the lock, or throws SpoolBusy when another recorder holds it. */
  static take(spoolDir: string): RecoveryLock {
    fs.mkdirSync(spoolDir, { recursive: true });
    return new RecoveryLock(openLocked(path.join(spoolDir, 'recovery.lock'), true));
  }

  release(): void {
    this.db.close();
  }
}

/** A recovered spool still holding events that a consumer (Kafka) never got: kept, open and locked. */
export interface KeptSpool {
  readonly spool: Spool;
  /** Events each session's consumers still lack. */
  readonly undelivered: { session: string; events: number; consumers: string[] }[];
}

export interface Recovered {
  readonly spools: string[];
  readonly events: number;
  readonly files: string[];
  /** Spools kept for the events Kafka never got (all of them are in the archive). The caller closes them. */
  readonly kept: KeptSpool[];
  /** Spools that did not read back whole: archived as far as they read, then set aside. */
  readonly damaged: DamagedSpool[];
}

/** A spool set aside in `<spool dir>/damaged/`, untouched since, for whoever can repair it. */
export interface DamagedSpool {
  readonly file: string;
  readonly keptAs: string;
  /** What did not read back: a line per damaged batch, or why the file does not open. */
  readonly why: string[];
}

/**
 * A spool's file name: `<session>.spool` (an SQLite database). Spools were `<session>.sqlite`
 * before spool format 3; a tapedeck of that time reads every `.sqlite` spool as one row per
 * event, so it would take a spool of packed batches for an empty one and remove it. It never
 * sees a `.spool`.
 */
export const SPOOL_SUFFIX = '.spool';
const LEGACY_SUFFIX = '.sqlite';

/** The spool a session writes in `spoolDir`, and the name a tapedeck before format 3 gave it. */
export function spoolFiles(spoolDir: string, session: string): { file: string; legacy: string } {
  return { file: path.join(spoolDir, session + SPOOL_SUFFIX), legacy: path.join(spoolDir, session + LEGACY_SUFFIX) };
}

/**
 * A `.sqlite` spool, opened once under its lock (so that no live recorder holds it; an older
 * one migrates to the current format as it opens) and closed whole, renamed `.spool` unless
 * that name is taken. Returns its name now.
 */
function renameLegacy(file: string): string {
  new Spool(file, { exclusive: true }).close();
  const to = file.slice(0, -LEGACY_SUFFIX.length) + SPOOL_SUFFIX;
  if (fs.existsSync(to)) return file;
  for (const ext of ['-wal', '-shm']) {
    if (fs.existsSync(file + ext)) fs.renameSync(file + ext, to + ext);
  }
  fs.renameSync(file, to);
  return to;
}

/** SQLite's word for a file that is not a database, or one whose pages are damaged. */
const UNREADABLE = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

/**
 * Recovers every spool in `spoolDir` whose recorder is gone (its lock can be taken) into
 * the archive, then removes it; spools still held by a live recorder are left alone. Call
 * with the RecoveryLock held. `onStart` hears how many spools there are to recover.
 */
export function recoverSpools(spoolDir: string, archiveRoot: string, onStart?: (spools: number) => void): Recovered {
  const out = { spools: [] as string[], events: 0, files: [] as string[], kept: [] as KeptSpool[], damaged: [] as DamagedSpool[] };
  if (!fs.existsSync(spoolDir)) return out;
  const dead: Spool[] = [];
  // Files only: a folder, a FIFO or a dangling link of a spool's name is nobody's spool.
  const names = fs.readdirSync(spoolDir).filter((n) => (n.endsWith(SPOOL_SUFFIX) || n.endsWith(LEGACY_SUFFIX)) && fs.statSync(path.join(spoolDir, n), { throwIfNoEntry: false })?.isFile());
  for (const name of names.sort()) {
    let file = path.join(spoolDir, name);
    try {
      if (file.endsWith(LEGACY_SUFFIX)) file = renameLegacy(file);
      dead.push(new Spool(file, { exclusive: true }));
    } catch (err) {
      if (err instanceof SpoolBusy) continue;
      if (UNREADABLE.has((err as { code?: string }).code ?? '')) {
        out.damaged.push({ file, keptAs: setAside(file), why: [`it does not open as a spool: ${(err as Error).message}`] });
        continue;
      }
      for (const d of dead) d.close();
      throw Object.assign(err as Error, { spoolFile: file });
    }
  }
  if (dead.length > 0) onStart?.(dead.length);
  try {
    while (dead.length > 0) {
      const spool = dead[0]!;
      const r = roll(spool, archiveRoot, ['archive'], undefined, true);
      dead.shift();
      out.spools.push(spool.file);
      out.events += r.events;
      out.files.push(...r.files);
      if (r.damaged.length > 0) {
        spool.close();
        out.damaged.push({ file: spool.file, keptAs: setAside(spool.file), why: r.damaged.map((d) => `session ${d.session}, ingest_seq ${d.firstSeq} to ${d.lastSeq}: ${d.reason}`) });
        continue;
      }
      // Pruned only as far as every registered consumer got: what Kafka lacks is still here.
      const undelivered = spool.sessions().map((session) => ({
        session, events: spool.countAfter(session, Math.min(...spool.consumersOf(session).map((c) => spool.cursor(c, session)))),
        consumers: spool.consumersOf(session).filter((c) => c !== 'archive'),
      })).filter((u) => u.events > 0);
      if (undelivered.length > 0) {
        out.kept.push({ spool, undelivered });
        continue;
      }
      spool.close();
      removeSpool(spool.file);
    }
  } catch (err) {
    for (const k of out.kept) k.spool.close();
    throw err;
  } finally {
    for (const d of dead) d.close();
  }
  return out;
}

/**
 * Moves a spool that does not read back whole (and its WAL, if any) into `damaged/` beside
 * it, under a name no other holds there; returns that name. Its `.pid` note goes.
 */
function setAside(file: string): string {
  const dir = path.join(path.dirname(file), 'damaged');
  fs.mkdirSync(dir, { recursive: true });
  const base = path.basename(file);
  let to = path.join(dir, base);
  for (let n = 2; fs.existsSync(to); n++) to = path.join(dir, base.replace(/(\.[a-z]+)$/, `.${n}$1`));
  for (const ext of ['-wal', '-shm']) {
    if (fs.existsSync(file + ext)) fs.renameSync(file + ext, to + ext);
  }
  fs.renameSync(file, to);
  fs.rmSync(pidFile(file), { force: true });
  return to;
}

export function removeSpool(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, pidFile(file)]) fs.rmSync(f, { force: true });
}

/** The `<session>.pid` beside a spool, for people reading the folder (liveness is the spool's lock). */
export function pidFile(spoolFile: string): string {
  return spoolFile.replace(/\.(spool|sqlite)$/, '.pid');
}

/**
 * Removes the hidden temp files (parquet.ts's tempName: `.<file>.<pid>.<random>.tmp`) that a
 * writer which died left in the archive: a recorder killed while its files were open. Their
 * rows are in its spool, which recovery archives again. A live writer's (its pid alive) stay.
 */
export function removeStaleTemps(archiveRoot: string): number {
  if (!fs.existsSync(archiveRoot)) return 0;
  let removed = 0;
  for (const rel of fs.readdirSync(archiveRoot, { recursive: true }).map(String)) {
    const m = /^\..+\.(\d+)\.[0-9a-z]+\.tmp$/.exec(path.basename(rel));
    if (!m || pidAlive(Number(m[1]))) continue;
    fs.rmSync(path.join(archiveRoot, rel), { force: true });
    removed++;
  }
  return removed;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}
