/**
 * A session's claim on an archive folder while one process writes it: `.<session>.lock`
 * beside its Parquet files (readers take only `.parquet` files), a SQLite file held in
 * exclusive locking mode as the recorder holds its spool (sqlite-open.ts): a killed writer
 * leaves no claim behind, and a reused pid cannot fool it. Two imports of one recording
 * into one --out at once both passed the "already holds this session" check and overwrote
 * each other's files, both saying they had imported it whole.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openSqlite } from './sqlite-open.ts';

/** Another live process holds the session (its lock file is named for the message). */
export class SessionLocked extends Error {
  constructor(readonly session: string, readonly file: string) {
    super(`session ${session} is being written by another process (it holds ${file})`);
  }
}

/** Claims `session` in `dir` (made if missing); returns the release. Throws SessionLocked when another process holds it. */
export function lockSession(dir: string, session: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `.${session}.lock`);
  const db = openSqlite(file, { journal: 'MEMORY', exclusive: true, busy: () => new SessionLocked(session, file) });
  return () => {
    db.close();
    fs.rmSync(file, { force: true });
  };
}
