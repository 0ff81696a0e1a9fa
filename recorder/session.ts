/**
 * How a recording session starts: its id (checked: it names files), the --out's recovery
 * lock, the recovery of spools that dead recorders left, and this session's own locked spool.
 * What stops a recording before or while it runs is a RecordError: one line for the user.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RecoveryLock, pidFile, recoverSpools, removeStaleTemps, spoolFiles, type Recovered } from './archiver.ts';
import { diskFault } from './disk.ts';
import { Spool, SpoolBusy } from './spool.ts';
import { TapedeckError } from '../src/errors.ts';
import { sessionFiles } from '../src/storage/archive-read.ts';

/**
 * A recording that cannot start or go on (bad session id, the --out held by another
 * recorder, a full or read-only disk), said in one line; the CLI exits with `exitCode`.
 */
export class RecordError extends TapedeckError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode);
  }
}

/**
 * A session id names files (`<out>/spool/<session>.spool`, `<out>/out/<session>/`,
 * `<session>-<n>.parquet`), so it may hold no path separator, no `..`, nothing a shell or
 * a Hive-style partition path would mangle.
 */
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Why `id` cannot be a session id, or undefined when it can. */
export function badSession(id: string): string | undefined {
  if (SESSION_ID.test(id)) return undefined;
  return `bad --session ${JSON.stringify(id)} (1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit)`;
}

export function sessionId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `rec-${t}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Another live recorder holds `session`'s spool `file`. */
function beingRecorded(session: string, file: string): RecordError {
  return new RecordError(`session ${session} is being recorded by another recorder (its spool ${file} is locked); choose another --session`, 2);
}

/**
 * Under the --out's recovery lock: recovers the spools that dead recorders left, then opens
 * (and locks) this session's own. A recorder that cannot take the lock stops with one line.
 */
export function startSpool(spoolDir: string, rawDir: string, session: string, kafka: boolean, say: (line: string) => void): { recovered: Recovered; spool: Spool; spoolFile: string } {
  let lock: RecoveryLock;
  try {
    lock = RecoveryLock.take(spoolDir);
  } catch (err) {
    if (err instanceof SpoolBusy) throw new RecordError(`another recorder is recovering the unfinished spools in ${spoolDir} right now; start this one again once that one says "recording"`);
    throw err;
  }
  const { file: spoolFile, legacy } = spoolFiles(spoolDir, session);
  let recovered: Recovered | undefined;
  try {
    try {
      recovered = recoverSpools(spoolDir, rawDir, {
        onStart: (n) => say(`recovering ${n} unfinished spool(s) into ${rawDir}…`),
        onMigrate: (file, n) => say(`migrating the spool ${file}, an older tapedeck's (${n} events, a row each), to batches…`),
      });
      removeStaleTemps(rawDir);
    } catch (err) {
      const f = diskFault(err);
      const file = (err as { spoolFile?: string }).spoolFile;
      if (f) throw new RecordError(`cannot recover the unfinished ${file ? `spool ${file}` : `spools in ${spoolDir}`} into ${rawDir}: ${f.what} (${f.code}); they are kept as they are`);
      // A newer tapedeck's spool says so itself; any other spool that does not open is named.
      if (file && !(err instanceof TapedeckError)) throw new RecordError(`cannot open the unfinished spool ${file}: ${(err as Error).message}; it is kept as it is`);
      throw err;
    }
    if (recovered.spools.length > 0) say(`recovered ${recovered.events} events from ${recovered.spools.length} unfinished spool(s) into ${rawDir}`);
    for (const d of recovered.damaged) {
      const what = d.why.length === 1 ? d.why[0] : `${d.why.length} batches: ${d.why.join('; ')}`;
      const owed = (d.owed ?? []).map((o) => `; ${o.events} events of session ${o.session} had not reached ${o.consumer === 'kafka' ? 'Kafka' : o.consumer}, and stay in it`).join('');
      say(`warning: the spool ${d.file} is damaged (${what}); ${d.opened ? `all it held that reads back is in ${rawDir}${owed}` : 'nothing of it was read'}; it is set aside, nothing pruned from it, as ${d.keptAs}`);
    }
    for (const k of recovered.kept) {
      for (const u of k.undelivered) {
        say(`warning: ${u.events} events of session ${u.session} never reached Kafka; they are in the archive ${rawDir} and kept in the spool ${k.spool.file}${kafka ? '; delivering them now' : ' until a record run with --kafka delivers them'}`);
      }
      if (!kafka) k.spool.close();
    }
    try {
      if (recovered.kept.some((k) => k.spool.file === spoolFile)) throw new RecordError(`session ${session} has a spool ${spoolFile} still holding events for Kafka; choose another --session`, 2);
      // Nor while a spool of it is set aside: recovered once repaired, it would meet this one's files.
      const damagedDir = path.join(spoolDir, 'damaged');
      const aside = fs.existsSync(damagedDir) ? fs.readdirSync(damagedDir).find((f) => new RegExp(`^${session.replace(/\./g, '\\.')}(\\.\\d+)?\\.(spool|sqlite)$`).test(f)) : undefined;
      if (aside) throw new RecordError(`session ${session} has a damaged spool set aside, ${path.join(damagedDir, aside)}, and a recording under the same id would meet its events once it is repaired and recovered; choose another --session`, 2);
      // The archive names a session's files by their first ingest_seq: a second recording of
      // one session would write over the first's files, and mix their events in a file of it.
      const archived = fs.existsSync(rawDir) ? sessionFiles(rawDir, session).length : 0;
      if (archived > 0) throw new RecordError(`session ${session} is in the archive ${rawDir} already (${archived} file${archived === 1 ? '' : 's'}), and a recording under the same id would write over it; choose another --session`, 2);
      // Left by recovery only while an older tapedeck's recorder holds it: that one records the session.
      if (fs.existsSync(legacy)) throw beingRecorded(session, legacy);
      const spool = new Spool(spoolFile, { exclusive: true, deferCheckpoints: true });
      // For people reading the folder; liveness is the spool's lock, not this PID.
      fs.writeFileSync(pidFile(spoolFile), String(process.pid));
      if (kafka) spool.register('kafka', session);
      return { recovered, spool, spoolFile };
    } catch (err) {
      removeOwnPidFile(spoolFile);
      if (err instanceof SpoolBusy) throw beingRecorded(session, spoolFile);
      const f = diskFault(err);
      if (f) throw new RecordError(`cannot start the spool ${spoolFile}: ${f.what} (${f.code})`);
      throw err;
    }
  } catch (err) {
    if (kafka) for (const k of recovered?.kept ?? []) k.spool.close();
    throw err;
  } finally {
    lock.release();
  }
}

/**
 * Removes the spool's `<session>.pid` when it still holds this process's PID: the recorder
 * that wrote it is stopping, and a PID left behind names a dead process (or, reused, another
 * one). A file that holds another PID is someone else's word, and stays.
 */
export function removeOwnPidFile(spoolFile: string): void {
  const file = pidFile(spoolFile);
  try {
    if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
  } catch {
    // Gone already (the spool was removed with it), or unreadable: a note for people must not
    // turn a stop, or the error that stopped the recording, into another failure.
  }
}
