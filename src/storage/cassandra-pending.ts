/**
 * Rows the Cassandra sink has not written yet, on disk (SQLite, WAL, like the recorder's
 * spool): while Cassandra is down a recorder's rows wait here rather than in memory, a
 * `kill -9` loses none that reached it, and the next `record --sink` into the same folder
 * writes what an earlier run left. A FIFO of rows, bounded: past `max` rows the oldest go
 * and are counted, so an outage of days cannot fill the disk unnoticed.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import type Database from 'better-sqlite3';

/** SQLite loads with the first store: a replay's sink never makes one (only a recorder's does), and loading it is ~15–40 ms of start-up. */
const sqlite = (): typeof Database => createRequire(import.meta.url)('better-sqlite3') as typeof Database;

/** One row for one Cassandra table: its values in the INSERT's order, and its partition key (for grouping). */
export interface PendingRow {
  readonly table: string;
  readonly key: string;
  readonly params: unknown[];
}

export class PendingStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly append_: (rows: readonly PendingRow[]) => void;
  private readonly settle_: (lastId: number, putBack: readonly PendingRow[]) => void;
  private count_: number;
  /** Rows dropped (oldest first) because the store was full. */
  dropped = 0;

  constructor(readonly file: string, private readonly max = 2_000_000) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new (sqlite())(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, key TEXT NOT NULL, params BLOB NOT NULL)');
    this.insert = this.db.prepare('INSERT INTO pending (tbl, key, params) VALUES (?, ?, ?)');
    const dropOldest = this.db.prepare('DELETE FROM pending WHERE id IN (SELECT id FROM pending ORDER BY id LIMIT ?)');
    const removeUpTo = this.db.prepare('DELETE FROM pending WHERE id <= ?');
    this.count_ = Number((this.db.prepare('SELECT count(*) AS n FROM pending').get() as { n: number }).n);
    this.append_ = this.db.transaction((rows: readonly PendingRow[]) => {
      for (const r of rows) this.insert.run(r.table, r.key, v8.serialize(r.params));
      this.count_ += rows.length;
      const over = this.count_ - this.max;
      if (over > 0) {
        dropOldest.run(over);
        this.count_ -= over;
        this.dropped += over;
      }
    });
    this.settle_ = this.db.transaction((lastId: number, putBack: readonly PendingRow[]) => {
      this.count_ -= removeUpTo.run(lastId).changes;
      this.append_(putBack);
    });
  }

  count(): number {
    return this.count_;
  }

  /** Appends `rows` in one transaction (dropping the oldest beyond the bound). */
  append(rows: readonly PendingRow[]): void {
    if (rows.length > 0) this.append_(rows);
  }

  /** The oldest `n` rows, and the id of the last of them (for `settle`). */
  peek(n: number): { rows: PendingRow[]; lastId: number } {
    const got = this.db.prepare('SELECT id, tbl, key, params FROM pending ORDER BY id LIMIT ?').all(n) as { id: number; tbl: string; key: string; params: Buffer }[];
    return {
      rows: got.map((r) => ({ table: r.tbl, key: r.key, params: v8.deserialize(r.params) as unknown[] })),
      lastId: got.at(-1)?.id ?? 0,
    };
  }

  /** After a write of the rows up to `lastId`: removes them, and appends again those that failed, in one transaction. */
  settle(lastId: number, putBack: readonly PendingRow[]): void {
    this.settle_(lastId, putBack);
  }

  close(): void {
    this.db.close();
  }
}
