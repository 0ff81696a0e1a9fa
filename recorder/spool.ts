/**
 * The spool: every LogEvent is written here first (SQLite, WAL), in transactions committed
 * at least every `commitMs` (default 50 ms), so a kill -9 loses at most the last interval and
 * never corrupts anything. WAL with synchronous=NORMAL is durable against a process crash;
 * against power loss it can lose the last commits, never consistency.
 *
 * A recorder holds its spool open in SQLite's exclusive locking mode for as long as it runs,
 * and so does whoever recovers a spool: the lock is the operating system's (fcntl), so it
 * dies with its process, however that ends. "Is this spool's recorder alive?" is therefore
 * "can I take its lock?", which a reused PID cannot fool.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LogEvent, LogKind } from '../src/log/event.ts';

export interface SpoolRow {
  session: string;
  ingest_seq: bigint;
  recv_ns: bigint;
  exchange: string;
  conn: string;
  kind: string;
  payload: string;
  meta: string;
}

export function toLogEvent(r: SpoolRow): LogEvent {
  return {
    session: r.session, ingestSeq: Number(r.ingest_seq), recvNs: r.recv_ns, exchange: r.exchange,
    conn: r.conn, kind: r.kind as LogKind, payload: r.payload, meta: r.meta,
  };
}

/** The spool is held by another live process (its recorder, or a recorder recovering it). */
export class SpoolBusy extends Error {}

export interface SpoolOptions {
  /** Take and hold the spool's exclusive lock, or throw SpoolBusy at once when another process has it. */
  readonly exclusive?: boolean;
}

/** Opens `file` in WAL mode; with `exclusive`, takes its lock for as long as it stays open. */
export function openLocked(file: string, exclusive: boolean): Database.Database {
  const db = new Database(file, exclusive ? { timeout: 0 } : {});
  try {
    // Set before the first WAL access: no shared-memory index, and the lock is never let go.
    if (exclusive) db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    if (exclusive) db.exec('BEGIN EXCLUSIVE; COMMIT');
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') throw new SpoolBusy(`${file} is held by another process`);
    throw err;
  }
}

/**
 * Rows per INSERT statement at a commit (the rest one by one): one statement per row was a
 * quarter of the recorder's time at a flood; 16–64 rows a statement insert 1.3–1.6× faster.
 */
const INSERT_ROWS = 32;

/** An event's eight column values, in the table's order, into `args` from `at`. */
function bindRow(e: LogEvent, args: unknown[], at: number): void {
  args[at] = e.session;
  args[at + 1] = BigInt(e.ingestSeq);
  args[at + 2] = e.recvNs;
  args[at + 3] = e.exchange;
  args[at + 4] = e.conn;
  args[at + 5] = e.kind;
  args[at + 6] = e.payload;
  args[at + 7] = e.meta;
}

export class Spool {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly insertMany: Database.Statement;
  private readonly commitBatch: (rows: LogEvent[]) => void;
  private pending: LogEvent[] = [];
  private readonly deleteRange: Database.Statement;
  /** By session: pruneSome has deleted every ingest_seq up to this. */
  private readonly prunedUpTo = new Map<string, number>();

  constructor(readonly file: string, opts: SpoolOptions = {}) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = openLocked(file, opts.exclusive ?? false);
    this.db.defaultSafeIntegers(true);
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS events (
      session TEXT NOT NULL, ingest_seq INTEGER NOT NULL, recv_ns INTEGER NOT NULL, exchange TEXT NOT NULL,
      conn TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, meta TEXT NOT NULL,
      PRIMARY KEY (session, ingest_seq)) WITHOUT ROWID`);
    this.db.exec('CREATE TABLE IF NOT EXISTS cursors (name TEXT NOT NULL, session TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (name, session))');
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    this.insert = this.db.prepare('INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.insertMany = this.db.prepare(`INSERT OR IGNORE INTO events VALUES ${Array(INSERT_ROWS).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`);
    this.deleteRange = this.db.prepare('DELETE FROM events WHERE session = ? AND ingest_seq > ? AND ingest_seq <= ?');
    const many = new Array<unknown>(INSERT_ROWS * 8);
    const one = new Array<unknown>(8);
    this.commitBatch = this.db.transaction((rows: LogEvent[]) => {
      let i = 0;
      for (; i + INSERT_ROWS <= rows.length; i += INSERT_ROWS) {
        for (let j = 0; j < INSERT_ROWS; j++) bindRow(rows[i + j]!, many, j * 8);
        this.insertMany.run(...many);
      }
      for (; i < rows.length; i++) {
        bindRow(rows[i]!, one, 0);
        this.insert.run(...one);
      }
    });
  }

  /** Queues an event for the next commit. */
  add(ev: LogEvent): void {
    this.pending.push(ev);
  }

  get pendingCount(): number {
    return this.pending.length;
  }


  /** Commits everything queued in one transaction; returns what was committed. */
  commit(): LogEvent[] {
    const rows = this.pending;
    if (rows.length === 0) return rows;
    this.commitBatch(rows);
    this.pending = [];
    return rows;
  }

  count(): number {
    return Number((this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: bigint }).n);
  }

  /** Committed events of `session` past ingest_seq `seq`. */
  countAfter(session: string, seq: number): number {
    return Number((this.db.prepare('SELECT count(*) AS n FROM events WHERE session = ? AND ingest_seq > ?').get(session, BigInt(seq)) as { n: bigint }).n);
  }

  /** Sessions with events in the spool. */
  sessions(): string[] {
    return (this.db.prepare('SELECT DISTINCT session FROM events ORDER BY session').all() as { session: string }[]).map((r) => r.session);
  }

  /** Committed events of `session` after ingest_seq `seq`, in order, at most `limit`. */
  after(session: string, seq: number, limit: number): LogEvent[] {
    return (this.db.prepare('SELECT * FROM events WHERE session = ? AND ingest_seq > ? ORDER BY ingest_seq LIMIT ?')
      .all(session, BigInt(seq), limit) as SpoolRow[]).map(toLogEvent);
  }

  /**
   * How far a consumer of the spool (`archive`, `kafka`) has taken a session: the last
   * ingest_seq it has safely delivered, -1 for none.
   */
  cursor(name: string, session: string): number {
    const r = this.db.prepare('SELECT seq FROM cursors WHERE name = ? AND session = ?').get(name, session) as { seq: bigint } | undefined;
    return r === undefined ? -1 : Number(r.seq);
  }

  setCursor(name: string, session: string, seq: number): void {
    this.db.prepare('INSERT INTO cursors VALUES (?, ?, ?) ON CONFLICT(name, session) DO UPDATE SET seq = excluded.seq')
      .run(name, session, BigInt(seq));
  }

  /**
   * The consumers registered for `session` (a cursor row, -1 until it delivers anything):
   * whoever prunes or recovers the spool keeps what any of them still lacks.
   */
  consumersOf(session: string): string[] {
    return (this.db.prepare('SELECT name FROM cursors WHERE session = ? ORDER BY name').all(session) as { name: string }[]).map((r) => r.name);
  }

  /** Registers a consumer of `session` that has delivered nothing yet. */
  register(name: string, session: string): void {
    this.db.prepare('INSERT OR IGNORE INTO cursors VALUES (?, ?, -1)').run(name, session);
  }

  meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Deletes what every consumer in `consumers` has delivered; returns what is left. */
  prune(session: string, consumers: readonly string[]): number {
    this.db.prepare('DELETE FROM events WHERE session = ? AND ingest_seq <= ?').run(session, BigInt(this.deliveredUpTo(session, consumers)));
    return this.count();
  }

  /**
   * Deletes the oldest of what every consumer has delivered, at most `maxSeqs` ingest_seqs
   * of it (the recorder's own session, whose ingest_seqs start at 0). Called at each commit,
   * it spreads a roll's delete over the commits after it: deleting a roll's minute at once
   * (~1 µs a row, 3.6M rows at 60k frames/s) stalled ingest for seconds.
   */
  pruneSome(session: string, consumers: readonly string[], maxSeqs: number): void {
    const from = this.prunedUpTo.get(session) ?? -1;
    const upTo = Math.min(this.deliveredUpTo(session, consumers), from + maxSeqs);
    if (upTo <= from) return;
    this.deleteRange.run(session, BigInt(from), BigInt(upTo));
    this.prunedUpTo.set(session, upTo);
  }

  /** The last ingest_seq of `session` that every consumer (these and those registered) has delivered. */
  deliveredUpTo(session: string, consumers: readonly string[]): number {
    const all = new Set([...consumers, ...this.consumersOf(session)]);
    return Math.min(...[...all].map((c) => this.cursor(c, session)));
  }

  close(): void {
    this.db.close();
  }
}
