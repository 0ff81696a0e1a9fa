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
import zlib from 'node:zlib';
import Database from 'better-sqlite3';
import type { LogEvent, LogKind } from '../src/log/event.ts';
import { TapedeckError } from '../src/errors.ts';
import { openSqlite } from '../src/storage/sqlite-open.ts';
import { decodeBatch, encodeBatch, packBatch, unpackBatch, type PackedBatch } from './spool-batch.ts';

/** A row of a spool written before spool batches (one row per event). */
interface SpoolRow {
  session: string;
  ingest_seq: bigint;
  recv_ns: bigint;
  exchange: string;
  conn: string;
  kind: string;
  payload: string;
  meta: string;
}

function toLogEvent(r: SpoolRow): LogEvent {
  return {
    session: r.session, ingestSeq: Number(r.ingest_seq), recvNs: r.recv_ns, exchange: r.exchange,
    conn: r.conn, kind: r.kind as LogKind, payload: r.payload, meta: r.meta,
  };
}

/** A batch, as found (its packed columns are read once its events are wanted). */
interface BatchRef { id: bigint; first_seq: bigint; last_seq: bigint; n: bigint; crc: bigint | null }
/** A batch row's packed columns, as read (integers are BigInts: the spool reads safe integers). */
interface StoredBatch { head_chars: bigint; bytes: bigint; data: Buffer }
const PACKED = 'head_chars, bytes, data';
const packed = (b: StoredBatch): PackedBatch => ({ headChars: Number(b.head_chars), bytes: Number(b.bytes), data: b.data });

/**
 * An ingest_seq the spool stored (a cursor, a `pruned:` mark), or -1 for none. A value that
 * is not one (damaged: empty, text, a fraction, past 2^53) is taken as none too: what it would
 * hide or skip is then read again (consumers and readers take a repeat; nothing is lost).
 */
function storedSeq(v: unknown): number {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n >= -1 ? n : -1;
}

/**
 * A batch's characters at most, but for a batch of one event: its head and body are single
 * strings (V8 caps a string at ~2^29), and it is packed in one piece. A recorder's commit of
 * 50 ms holds ~1M characters at 60k frames a second; legacy pages of 10k long rows can hold more.
 */
export const BATCH_CHARS = 16 << 20;

/** Legacy rows per batch when a spool of one row per event is migrated. */
const LEGACY_BATCH = 10_000;

/** The spool is held by another live process (its recorder, or a recorder recovering it). */
export class SpoolBusy extends Error {}

/**
 * A batch of the spool that does not read back as it was written (its bytes damaged on
 * disk): it does not decompress, or its events are not the count and ingest_seqs its row says.
 */
export class SpoolDamaged extends TapedeckError {
  /** `batch`: the batch's rowid, which `after` can be told to pass over. */
  constructor(readonly file: string, readonly session: string, readonly firstSeq: number, readonly lastSeq: number, readonly reason: string, readonly batch: bigint) {
    super(`the spool ${file} has a damaged batch: session ${session}, ingest_seq ${firstSeq} to ${lastSeq} (${reason})`, 1);
  }
}

/**
 * A batch row's CRC-32: of its packed bytes, then of the columns that say what they hold
 * (session, ingest_seqs, count, lengths). ZSTD frames carry no checksum here, and a damaged
 * column would read as other events, or hide a batch from the reads that select it by seq.
 */
function rowCrc(session: string, first: bigint, last: bigint, n: bigint, headChars: bigint, bytes: bigint, data: Uint8Array): number {
  return zlib.crc32(`${session}\n${first}\n${last}\n${n}\n${headChars}\n${bytes}`, zlib.crc32(data));
}

export interface SpoolOptions {
  /** Take and hold the spool's exclusive lock, or throw SpoolBusy at once when another process has it. */
  readonly exclusive?: boolean;
  /**
   * Checkpoint the WAL only when `checkpointIfDue` says so, not inside the commit that
   * fills it (SQLite's default): the recorder's commits then return as soon as their
   * transaction is in the WAL, and the checkpoint (copying the WAL's pages into the
   * database and two fsyncs, up to ~70 ms) runs after the commit's latency is taken.
   */
  readonly deferCheckpoints?: boolean;
  /** Hears, before it starts, that a spool of a row per event is migrated to batches (how many events: it takes a while). */
  readonly onMigrate?: (events: number) => void;
}

/**
 * Deferred checkpoints: when the WAL has about this much since the last one (SQLite's own
 * default is 1,000 pages, ~4 MiB), or CHECKPOINT_MS has passed and anything was written.
 * Counted, not read: a write's packed bytes and WRITE_PAGES whole pages for what else it touches.
 */
const CHECKPOINT_BYTES = 4 << 20;
const CHECKPOINT_MS = 1_000;
const WRITE_PAGES = 3 * 4096;
/** The WAL file is cut back to this after a checkpoint (it would keep its largest size). */
const WAL_KEEP_BYTES = 16 << 20;

/**
 * The spool's format, in SQLite's user_version: 0 for the one row per event of sessions
 * before spool batches (migrated when opened), 2 for packed batches, 3 for packed batches
 * with a CRC-32 each (a format-2 spool gains the column; its batches stay without). A spool
 * of a newer format is refused, never read as empty and removed.
 */
const SPOOL_FORMAT = 3;

/** Opens `file` in WAL mode; with `exclusive`, takes its lock for as long as it stays open. */
export function openLocked(file: string, exclusive: boolean): Database.Database {
  return openSqlite(file, { journal: 'WAL', exclusive, busy: () => new SpoolBusy(`${file} is held by another process`) });
}

export class Spool {
  private readonly db: Database.Database;
  private readonly commitBatches: (rows: LogEvent[]) => void;
  private pending: LogEvent[] = [];
  /** WAL bytes written since the last deferred checkpoint, as `wrote` counts them (packed bytes and page allowances). */
  private unchecked = 0;
  private checkedAt = performance.now();
  private readonly deferCheckpoints: boolean;
  /** The last batch read, decoded: a consumer reads a commit's events a slice at a time. */
  private decoded: { readonly key: string; readonly events: LogEvent[] } | undefined;
  /** By session: the last ingest_seq added, so that a batch's events are in order. */
  private readonly lastAdded = new Map<string, number>();
  private readonly deleteUpTo: Database.Statement;
  /** By session: every ingest_seq up to this is pruned (kept in the meta table as `pruned:<session>`). */
  private readonly prunedUpTo = new Map<string, number>();

  constructor(readonly file: string, opts: SpoolOptions = {}) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = openLocked(file, opts.exclusive ?? false);
    this.deferCheckpoints = opts.deferCheckpoints ?? false;
    try {
      [this.deleteUpTo, this.commitBatches] = this.open(opts.onMigrate);
    } catch (err) {
      // Not left open (and locked) behind the error: whoever gets it may move the file.
      this.db.close();
      throw err;
    }
  }

  /** Sets the spool up (its format, tables, statements) and migrates an older one. */
  private open(onMigrate?: (events: number) => void): [Database.Statement, (rows: LogEvent[]) => void] {
    const file = this.file;
    this.db.defaultSafeIntegers(true);
    this.db.pragma('synchronous = NORMAL');
    if (this.deferCheckpoints) this.db.pragma('wal_autocheckpoint = 0');
    this.db.pragma(`journal_size_limit = ${WAL_KEEP_BYTES}`);
    const format = Number(this.db.pragma('user_version', { simple: true }));
    if (format > SPOOL_FORMAT) {
      throw new TapedeckError(`the spool ${file} was written by a newer tapedeck (spool format ${format}; this one reads up to ${SPOOL_FORMAT}): recover it with that version`);
    }
    // One row per commit and session (spool-batch.ts); a batch outlives the events in it
    // that were pruned (the `pruned:` mark hides them) until all of it is pruned.
    this.db.exec(`CREATE TABLE IF NOT EXISTS batches (
      session TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, n INTEGER NOT NULL,
      head_chars INTEGER NOT NULL, bytes INTEGER NOT NULL, data BLOB NOT NULL, crc INTEGER)`);
    if (!(this.db.pragma('table_info(batches)') as { name: string }[]).some((c) => c.name === 'crc')) this.db.exec('ALTER TABLE batches ADD COLUMN crc INTEGER');
    this.db.exec('CREATE INDEX IF NOT EXISTS batches_by_seq ON batches (session, last_seq)');
    this.db.exec('CREATE TABLE IF NOT EXISTS cursors (name TEXT NOT NULL, session TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (name, session))');
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const insertBatch = this.db.prepare('INSERT INTO batches (session, first_seq, last_seq, n, head_chars, bytes, data, crc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const deleteUpTo = this.db.prepare('DELETE FROM batches WHERE session = ? AND last_seq <= ?');
    const commitBatches = this.db.transaction((rows: LogEvent[]) => {
      for (let i = 0; i < rows.length;) {
        const session = rows[i]!.session;
        // One batch per session, cut where it would pass BATCH_CHARS (a row per event of a migrated spool can be long).
        let j = i;
        let chars = 0;
        while (j < rows.length && rows[j]!.session === session) {
          const e = rows[j]!;
          const c = e.exchange.length + e.conn.length + e.kind.length + e.payload.length + e.meta.length + 40;
          if (j > i && chars + c > BATCH_CHARS) break;
          chars += c;
          j++;
        }
        const p = packBatch(encodeBatch(rows, i, j));
        const cols = [BigInt(rows[i]!.ingestSeq), BigInt(rows[j - 1]!.ingestSeq), BigInt(j - i), BigInt(p.headChars), BigInt(p.bytes)] as const;
        insertBatch.run(session, ...cols, p.data, BigInt(rowCrc(session, ...cols, p.data)));
        this.wrote(p.data.length);
        i = j;
      }
    });
    this.migrateRows(commitBatches, onMigrate);
    if (format !== SPOOL_FORMAT) this.db.pragma(`user_version = ${SPOOL_FORMAT}`);
    return [deleteUpTo, commitBatches];
  }

  /**
   * A spool that a recorder before spool batches left (an `events` table, one row per event)
   * becomes batches, in one transaction: recovery then reads it like any other.
   */
  private migrateRows(commitBatches: (rows: LogEvent[]) => void, onMigrate?: (events: number) => void): void {
    const legacy = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
    if (legacy === undefined) return;
    onMigrate?.(Number((this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: bigint }).n));
    const page = this.db.prepare('SELECT * FROM events ORDER BY session, ingest_seq LIMIT ?');
    const moved = this.db.prepare('DELETE FROM events WHERE (session, ingest_seq) <= (?, ?)');
    // A page at a time, its rows deleted as its batches are written: the disk needs room
    // for a page more, not for the spool twice, and a migration cut short goes on next time.
    const step = this.db.transaction((): boolean => {
      const rows = (page.all(LEGACY_BATCH) as SpoolRow[]).map(toLogEvent);
      if (rows.length === 0) return false;
      commitBatches(rows);
      moved.run(rows.at(-1)!.session, BigInt(rows.at(-1)!.ingestSeq));
      return true;
    });
    while (step());
    this.db.exec('DROP TABLE events');
  }

  /** Queues an event for the next commit; a session's events come in ingest_seq order. */
  add(ev: LogEvent): void {
    const last = this.lastAdded.get(ev.session);
    if (last !== undefined && ev.ingestSeq <= last) throw new Error(`spool: event ${ev.ingestSeq} of session ${ev.session} added after ${last}`);
    this.lastAdded.set(ev.session, ev.ingestSeq);
    this.pending.push(ev);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Commits everything queued in one transaction; returns what was committed. */
  commit(): LogEvent[] {
    const rows = this.pending;
    if (rows.length === 0) return rows;
    this.commitBatches(rows);
    this.pending = [];
    return rows;
  }

  /** With `deferCheckpoints`: checkpoints the WAL when CHECKPOINT_BYTES or CHECKPOINT_MS have gone by since the last one. */
  checkpointIfDue(): void {
    if (!this.deferCheckpoints || this.unchecked === 0) return;
    if (this.unchecked < CHECKPOINT_BYTES && performance.now() - this.checkedAt < CHECKPOINT_MS) return;
    this.unchecked = 0;
    this.checkedAt = performance.now();
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** About `bytes` more in the WAL, and the pages the write touched. */
  private wrote(bytes: number): void {
    this.unchecked += bytes + WRITE_PAGES;
  }

  /** Committed events not pruned (a damaged batch counted as its row says). */
  count(): number {
    return this.sessions().reduce((n, session) => n + this.countAfter(session, -1), 0);
  }

  /**
   * Committed events of `session` past ingest_seq `seq` (and not pruned; a damaged batch
   * counted whole, as its row says), but those of the batches `skip` names.
   */
  countAfter(session: string, seq: number, skip: readonly bigint[] = []): number {
    const from = Math.max(seq, this.pruned(session));
    let n = 0;
    for (const b of this.batchesAfter(session, from, Number.MAX_SAFE_INTEGER, skip)) {
      if (b.first_seq > from) n += Number(b.n);
      else {
        try {
          n += this.events(session, b).filter((e) => e.ingestSeq > from).length;
        } catch (err) {
          if (!(err instanceof SpoolDamaged)) throw err;
          n += Number(b.n);
        }
      }
    }
    return n;
  }

  /**
   * The batches of `session` whose row is not one a commit writes: their ingest_seqs do not
   * span their count (a damaged seq column can hide a batch from the reads that select by seq).
   */
  inconsistent(session: string): SpoolDamaged[] {
    const rows = this.db.prepare('SELECT rowid AS id, first_seq, last_seq, n, crc FROM batches WHERE session = ? AND (last_seq - first_seq + 1 != n OR n < 1)').all(session) as BatchRef[];
    return rows.map((b) => this.damaged(session, b, `its ingest_seqs ${b.first_seq} to ${b.last_seq} do not span its ${b.n} events`));
  }

  /** The batches of `session` that do not read back past ingest_seq `seq` (each decoded and checked), and those `inconsistent`. */
  damagedAfter(session: string, seq: number): SpoolDamaged[] {
    const out = this.inconsistent(session);
    const skip = out.map((d) => d.batch);
    for (let from = Math.max(seq, this.pruned(session)); ;) {
      const b = this.batchesAfter(session, from, 1, skip)[0];
      if (b === undefined) return out;
      try {
        this.events(session, b);
        from = Number(b.last_seq);
      } catch (err) {
        if (!(err instanceof SpoolDamaged)) throw err;
        out.push(err);
        skip.push(b.id);
      }
    }
  }

  /** Sessions with events in the spool. */
  sessions(): string[] {
    return (this.db.prepare('SELECT DISTINCT session FROM batches ORDER BY session').all() as { session: string }[]).map((r) => r.session);
  }

  /**
   * Committed events of `session` after ingest_seq `seq` (and not pruned), in order, at most
   * `limit`, passing over the batches `skip` names (rowids). A damaged batch ends the events
   * read before it, and throws SpoolDamaged when it is the first: a caller goes on past it
   * only by naming it in `skip`.
   */
  after(session: string, seq: number, limit: number, skip: readonly bigint[] = []): LogEvent[] {
    const from = Math.max(seq, this.pruned(session));
    const out: LogEvent[] = [];
    // Each batch holds at least one event past `from`: `limit` batches are enough.
    for (const b of this.batchesAfter(session, from, limit, skip)) {
      let events: LogEvent[];
      try {
        events = this.events(session, b);
      } catch (err) {
        if (err instanceof SpoolDamaged && out.length > 0) return out;
        throw err;
      }
      for (const ev of events) {
        if (out.length === limit) return out;
        if (ev.ingestSeq > from) out.push(ev);
      }
    }
    return out;
  }

  /** The batches of `session` holding ingest_seqs past `from`, in order, at most `limit`, but those `skip` names. */
  private batchesAfter(session: string, from: number, limit: number, skip: readonly bigint[] = []): BatchRef[] {
    // Rowids are integers: written into the statement as they are.
    const except = skip.length === 0 ? '' : ` AND rowid NOT IN (${skip.join(', ')})`;
    return this.db.prepare(`SELECT rowid AS id, first_seq, last_seq, n, crc FROM batches WHERE session = ? AND last_seq > ?${except} ORDER BY last_seq LIMIT ?`)
      .all(session, BigInt(from), BigInt(Math.min(limit, Number.MAX_SAFE_INTEGER))) as BatchRef[];
  }

  /** A batch's events, decoded once for as long as it is the last one read; SpoolDamaged when they do not read back. */
  private events(session: string, b: BatchRef): LogEvent[] {
    // The rowid tells damaged rows apart; SQLite reuses a deleted batch's rowid, the session's seqs never come back.
    const key = `${session}\n${b.id}\n${b.first_seq}\n${b.last_seq}`;
    if (this.decoded?.key !== key) {
      const row = this.db.prepare(`SELECT ${PACKED} FROM batches WHERE rowid = ?`).get(b.id) as StoredBatch;
      // Format 2 wrote no CRC.
      if (b.crc !== null) {
        const crc = rowCrc(session, b.first_seq, b.last_seq, b.n, row.head_chars, row.bytes, row.data);
        if (BigInt(crc) !== b.crc) throw this.damaged(session, b, `its bytes or columns are not those written (CRC-32 ${crc}, written ${b.crc})`);
      }
      let events: LogEvent[];
      try {
        const { head, body } = unpackBatch(packed(row));
        events = decodeBatch(session, head, body);
      } catch (err) {
        throw this.damaged(session, b, (err as Error).message);
      }
      const n = Number(b.n);
      const first = Number(b.first_seq);
      const last = Number(b.last_seq);
      if (n < 1 || events.length !== n) throw this.damaged(session, b, `${events.length} events where its row says ${n}`);
      // In order, from first to last: the ends checked, every step up.
      for (let i = 1; i < n; i++) {
        const seq = events[i]!.ingestSeq;
        if (!Number.isSafeInteger(seq) || seq <= events[i - 1]!.ingestSeq) throw this.damaged(session, b, `event ${i} has ingest_seq ${seq}, out of order`);
      }
      if (events[0]!.ingestSeq !== first || events[n - 1]!.ingestSeq !== last) throw this.damaged(session, b, `its events run from ingest_seq ${events[0]!.ingestSeq} to ${events[n - 1]!.ingestSeq}`);
      this.decoded = { key, events };
    }
    return this.decoded.events;
  }

  private damaged(session: string, b: BatchRef, reason: string): SpoolDamaged {
    return new SpoolDamaged(this.file, session, Number(b.first_seq), Number(b.last_seq), reason, b.id);
  }

  /**
   * How far a consumer of the spool (`archive`, `kafka`) has taken a session: the last
   * ingest_seq it has safely delivered, -1 for none.
   */
  cursor(name: string, session: string): number {
    const r = this.db.prepare('SELECT seq FROM cursors WHERE name = ? AND session = ?').get(name, session) as { seq: unknown } | undefined;
    return storedSeq(r?.seq);
  }

  setCursor(name: string, session: string, seq: number): void {
    this.wrote(0);
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
    this.wrote(0);
    this.db.prepare('INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Deletes what every consumer in `consumers` has delivered; returns what is left. */
  prune(session: string, consumers: readonly string[]): number {
    this.pruneTo(session, this.deliveredUpTo(session, consumers));
    return this.count();
  }

  /**
   * Prunes the oldest of what every consumer has delivered, at most `maxSeqs` ingest_seqs
   * of it (the recorder's own session, whose ingest_seqs start at 0): the mark moves that
   * far, and the batches it has passed whole are deleted. Called at each commit, it spreads
   * a roll's delete over the commits after it: deleting a roll's minute at once stalled
   * ingest for seconds when the spool held a row per event.
   */
  pruneSome(session: string, consumers: readonly string[], maxSeqs: number): void {
    this.pruneTo(session, Math.min(this.deliveredUpTo(session, consumers), this.pruned(session) + maxSeqs));
  }

  /** Every event of `session` up to ingest_seq `upTo` is pruned: whole batches deleted, the rest hidden by the mark. */
  private pruneTo(session: string, upTo: number): void {
    if (upTo <= this.pruned(session)) return;
    this.deleteUpTo.run(session, BigInt(upTo));
    this.decoded = undefined;
    this.wrote(0);
    this.setMeta(`pruned:${session}`, String(upTo));
    this.prunedUpTo.set(session, upTo);
  }

  /** The last ingest_seq of `session` pruned, -1 for none. */
  private pruned(session: string): number {
    let p = this.prunedUpTo.get(session);
    if (p === undefined) {
      p = storedSeq(this.meta(`pruned:${session}`));
      this.prunedUpTo.set(session, p);
    }
    return p;
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
