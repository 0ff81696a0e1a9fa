/**
 * Opening a SQLite file, optionally holding its exclusive lock for as long as it stays open:
 * the operating system lets the lock go with the process, however that ends, so a killed
 * holder leaves no claim behind and a reused pid cannot fool it. The recorder's spool
 * (recorder/spool.ts) and an import's session claim (session-lock.ts) are held this way.
 */
import Database from 'better-sqlite3';

export interface SqliteOpen {
  /** SQLite's journal: WAL for the spool, MEMORY for a file that holds no data (no journal file beside it). */
  readonly journal: 'WAL' | 'MEMORY';
  /** Take the exclusive lock now and keep it until close; another connection's open is then refused at once. */
  readonly exclusive: boolean;
  /** The error for a file another connection holds (SQLITE_BUSY). */
  readonly busy: () => Error;
}

export function openSqlite(file: string, o: SqliteOpen): Database.Database {
  const db = new Database(file, o.exclusive ? { timeout: 0 } : {});
  try {
    // Set before the first journal access: for WAL, no shared-memory index, and the lock is never let go.
    if (o.exclusive) db.pragma('locking_mode = EXCLUSIVE');
    db.pragma(`journal_mode = ${o.journal}`);
    // The first write transaction takes the exclusive lock, which exclusive locking mode keeps until close.
    if (o.exclusive) db.exec('BEGIN EXCLUSIVE; COMMIT');
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') throw o.busy();
    throw err;
  }
}
