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
import type { DiskFault } from './disk.ts';

export interface RollResult {
  readonly events: number;
  readonly files: string[];
  /** Batches that did not read back (with `skipDamaged`; the events around them are archived). */
  readonly damaged: SpoolDamaged[];
}

/** SQLite's word for a file that is not a database, or one whose pages are damaged (better-sqlite3 gives extended codes: SQLITE_CORRUPT_INDEX, …). */
const unreadable = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
};

/**
 * Archives every committed event past the `archive` cursor, then moves the cursor and
 * prunes what every consumer (`consumers`: `archive`, and `kafka` when it is on) has.
 * With `skipDamaged`, a batch that does not read back is passed over and listed (the events
 * after it are archived), and so is the rest of a session from a page SQLite cannot read;
 * then no cursor moves and nothing is pruned: the spool holds everything it held.
 */
export function roll(spool: Spool, archiveRoot: string, consumers: readonly string[] = ['archive'], maxRowsPerFile?: number, skipDamaged = false): RollResult {
  let events = 0;
  const files: string[] = [];
  const damaged: SpoolDamaged[] = [];
  const cursors = new Map<string, number>();
  for (const session of spool.sessions()) {
    const w = new ArchiveWriter(archiveRoot, session, maxRowsPerFile ? { maxRows: maxRowsPerFile } : {});
    let cursor = spool.cursor('archive', session);
    // Rows no commit writes are passed over before any read could select them by a damaged seq.
    const skip = skipDamaged ? spool.inconsistent(session).map((d) => (damaged.push(d), d.batch)) : [];
    try {
      for (;;) {
        let batch: LogEvent[];
        try {
          batch = spool.after(session, cursor, 50_000, skip);
        } catch (err) {
          if (skipDamaged && err instanceof SpoolDamaged) {
            damaged.push(err);
            skip.push(err.batch);
            continue;
          }
          if (!skipDamaged || !unreadable(err)) throw err;
          damaged.push(new SpoolDamaged(spool.file, session, cursor + 1, Number.MAX_SAFE_INTEGER, `SQLite cannot read its pages: ${(err as Error).message}`, -1n));
          break;
        }
        if (batch.length === 0) break;
        for (const ev of batch) w.write(ev);
        cursor = batch.at(-1)!.ingestSeq;
        events += batch.length;
      }
    } catch (err) {
      w.abort();
      throw err;
    }
    files.push(...w.close());
    cursors.set(session, cursor);
  }
  if (damaged.length === 0) {
    for (const [session, cursor] of cursors) {
      spool.setCursor('archive', session, cursor);
      spool.prune(session, consumers);
    }
  }
  return { events, files, damaged };
}

/** A damaged batch, or the rest of a session past a damaged page, as the user reads it. */
export function damageLine(d: SpoolDamaged): string {
  const span = d.lastSeq === Number.MAX_SAFE_INTEGER ? `ingest_seq ${d.firstSeq} on` : `ingest_seq ${d.firstSeq} to ${d.lastSeq}`;
  return `session ${d.session}, ${span}: ${d.reason}`;
}

/**
 * A spool that does not read back while recording (a batch damaged since its commit, pages
 * SQLite cannot read) as a fault the recorder stops on, like the disk's: what, and its code.
 */
export function readFault(err: unknown): DiskFault | undefined {
  if (err instanceof SpoolDamaged) return { what: `a damaged batch in the spool (${damageLine(err)})`, code: 'SPOOL_DAMAGED' };
  if (unreadable(err)) return { what: 'spool pages SQLite cannot read', code: (err as { code: string }).code };
  return undefined;
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

/** A spool set aside in `<spool dir>/damaged/` (nothing pruned from it), for whoever can repair it. */
export interface DamagedSpool {
  readonly file: string;
  readonly keptAs: string;
  /** What did not read back: a line per damaged batch, or why the file does not open. */
  readonly why: string[];
  /** By consumer other than the archive (Kafka): the events it had not got, as the rows count them. */
  readonly owed?: { consumer: string; session: string; events: number }[];
  /** False for a file that does not open as a spool: nothing of it was read. */
  readonly opened: boolean;
}

/** The consumers of `session` besides the archive (Kafka): those a recovered spool may still owe. */
const othersOf = (spool: Spool, session: string): string[] => spool.consumersOf(session).filter((c) => c !== 'archive');

/** What a consumer other than the archive still lacks, from its cursor on, that does not read back. */
function owedDamage(spool: Spool): SpoolDamaged[] {
  return spool.sessions().flatMap((session) => {
    const others = othersOf(spool, session);
    return others.length === 0 ? [] : spool.damagedAfter(session, Math.min(...others.map((c) => spool.cursor(c, session))));
  });
}

/** Events each consumer other than the archive lacks (counted by the rows, damaged ones whole); none when the spool cannot say. */
function owedCounts(spool: Spool): DamagedSpool['owed'] {
  try {
    return spool.sessions().flatMap((session) => othersOf(spool, session)
      .map((consumer) => ({ consumer, session, events: spool.countAfter(session, spool.cursor(consumer, session)) })))
      .filter((o) => o.events > 0);
  } catch (err) {
    if (unreadable(err)) return undefined;
    throw err;
  }
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
 * one migrates to the current format as it opens) and closed whole, renamed `.spool` (or
 * `.<n>.spool` when that is taken). Returns its name now.
 */
function renameLegacy(file: string, onMigrate?: (file: string, events: number) => void): string {
  new Spool(file, { exclusive: true, ...(onMigrate ? { onMigrate: (n: number) => onMigrate(file, n) } : {}) }).close();
  return moveSpool(file, numbered(path.dirname(file), path.basename(file, LEGACY_SUFFIX), SPOOL_SUFFIX));
}

/** `<dir>/<base><suffix>`, then `<dir>/<base>.2<suffix>`, `.3`, … */
function* numbered(dir: string, base: string, suffix: string): Generator<string> {
  yield path.join(dir, base + suffix);
  for (let n = 2; ; n++) yield path.join(dir, `${base}.${n}${suffix}`);
}

/** What SQLite keeps beside a spool file, named after it. */
const SIDE_FILES = ['-wal', '-shm'];

/**
 * Moves a spool file and its `-wal` and `-shm` to the first of `names` where none of the
 * three is taken (a WAL left there must never pair with another spool); returns that name.
 */
function moveSpool(file: string, names: Iterable<string>): string {
  for (const to of names) {
    if (['', ...SIDE_FILES].some((ext) => fs.existsSync(to + ext))) continue;
    for (const ext of SIDE_FILES) {
      if (fs.existsSync(file + ext)) fs.renameSync(file + ext, to + ext);
    }
    fs.renameSync(file, to);
    return to;
  }
  throw new Error(`no name to move ${file} to`);
}

/**
 * Recovers every spool in `spoolDir` whose recorder is gone (its lock can be taken) into
 * the archive, then removes it; spools still held by a live recorder are left alone. Call
 * with the RecoveryLock held. `onStart` hears how many spools there are to recover, and
 * `onMigrate` of each spool of a row per event (an older tapedeck's) before it is migrated.
 */
export function recoverSpools(spoolDir: string, archiveRoot: string, hooks: {
  readonly onStart?: (spools: number) => void;
  readonly onMigrate?: (file: string, events: number) => void;
} = {}): Recovered {
  const out = { spools: [] as string[], events: 0, files: [] as string[], kept: [] as KeptSpool[], damaged: [] as DamagedSpool[] };
  if (!fs.existsSync(spoolDir)) return out;
  const dead: Spool[] = [];
  // Files only: a folder, a FIFO or a dangling link of a spool's name is nobody's spool.
  const names = fs.readdirSync(spoolDir).filter((n) => (n.endsWith(SPOOL_SUFFIX) || n.endsWith(LEGACY_SUFFIX)) && fs.statSync(path.join(spoolDir, n), { throwIfNoEntry: false })?.isFile());
  for (const name of names.sort()) {
    let file = path.join(spoolDir, name);
    try {
      if (file.endsWith(LEGACY_SUFFIX)) file = renameLegacy(file, hooks.onMigrate);
      dead.push(new Spool(file, { exclusive: true }));
    } catch (err) {
      if (err instanceof SpoolBusy) continue;
      if (unreadable(err)) {
        out.damaged.push({ file, keptAs: setAside(file), why: [`it does not open as a spool: ${(err as Error).message}`], opened: false });
        continue;
      }
      for (const d of dead) d.close();
      throw Object.assign(err as Error, { spoolFile: file });
    }
  }
  if (dead.length > 0) hooks.onStart?.(dead.length);
  try {
    while (dead.length > 0) {
      const spool = dead[0]!;
      let r: RollResult = { events: 0, files: [], damaged: [] };
      let why: string[];
      try {
        r = roll(spool, archiveRoot, ['archive'], undefined, true);
        // Kept for a consumer that lacks some of it (Kafka), all of that must read back too.
        why = (r.damaged.length > 0 ? r.damaged : owedDamage(spool)).map(damageLine);
      } catch (err) {
        if (!unreadable(err)) throw err;
        why = [`SQLite cannot read its pages: ${(err as Error).message}`];
      }
      dead.shift();
      out.spools.push(spool.file);
      out.events += r.events;
      out.files.push(...r.files);
      if (why.length > 0) {
        const owed = owedCounts(spool);
        spool.close();
        out.damaged.push({ file: spool.file, keptAs: setAside(spool.file), why, owed, opened: true });
        continue;
      }
      // Pruned only as far as every registered consumer got: what Kafka lacks is still here.
      const undelivered = spool.sessions().map((session) => ({
        session, events: spool.countAfter(session, Math.min(...spool.consumersOf(session).map((c) => spool.cursor(c, session)))),
        consumers: othersOf(spool, session),
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

/** Moves a spool that does not read back whole into `damaged/` beside it, under a name of its own there; its `.pid` note goes. */
function setAside(file: string): string {
  const dir = path.join(path.dirname(file), 'damaged');
  fs.mkdirSync(dir, { recursive: true });
  const suffix = path.extname(file);
  const to = moveSpool(file, numbered(dir, path.basename(file, suffix), suffix));
  fs.rmSync(pidFile(file), { force: true });
  return to;
}

export function removeSpool(file: string): void {
  for (const f of [file, ...SIDE_FILES.map((ext) => file + ext), pidFile(file)]) fs.rmSync(f, { force: true });
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
