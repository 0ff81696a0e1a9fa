/**
 * Spool files for the spool and recovery tests: written through Spool as a recorder writes
 * them (and damaged in place as a disk would), or as a recorder before spool batches left them.
 */
import Database from 'better-sqlite3';
import { Spool } from '../recorder/spool.ts';
import type { LogEvent } from '../src/log/event.ts';

const T0 = 1_700_000_000_000_000_000n;
export const ev = (session: string, i: number): LogEvent => ({
  session, ingestSeq: i, recvNs: T0 + BigInt(i) * 1_000_000n, exchange: 'binance', conn: 'binance.0', kind: 'frame', payload: `{"e":"trade","t":${i}}`, meta: '',
});

/** A spool of `session` with one commit per entry of `sizes`; returns its events. */
export function writeSpool(file: string, session: string, sizes: number[]): LogEvent[] {
  const spool = new Spool(file);
  const all: LogEvent[] = [];
  for (const size of sizes) {
    for (let i = 0; i < size; i++) {
      const e = ev(session, all.length);
      all.push(e);
      spool.add(e);
    }
    spool.commit();
  }
  spool.close();
  return all;
}

/**
 * How batch `k` (in ingest order) is damaged: its packed bytes, or a column of its row
 * (`hidden`: its last_seq made to end before its first, which hides it from reads by seq;
 * `session`: another session's name). With `crc: false` its CRC is gone too, as in a batch
 * of spool format 2, so that only decoding can tell.
 */
export type Damage = 'bytes' | 'one bit' | 'count' | 'last_seq' | 'head_chars' | 'hidden' | 'session';

export function damage(file: string, k: number, how: Damage, { crc = true } = {}): { first: number; last: number } {
  const db = new Database(file);
  try {
    db.defaultSafeIntegers(false);
    const rows = db.prepare('SELECT rowid AS id, first_seq, last_seq, n, head_chars, data FROM batches ORDER BY last_seq').all() as { id: number; first_seq: number; last_seq: number; n: number; head_chars: number; data: Buffer }[];
    const r = rows[k]!;
    const set = (column: string, value: unknown): void => void db.prepare(`UPDATE batches SET ${column} = ? WHERE rowid = ?`).run(value, r.id);
    if (how === 'bytes') {
      const data = Buffer.from(r.data);
      data.fill(0x5a, 4, Math.min(data.length, 24));
      set('data', data);
    } else if (how === 'one bit') {
      // Near the end of the frame: its last block, which would decompress into other text.
      const data = Buffer.from(r.data);
      data[data.length - 3]! ^= 1;
      set('data', data);
    } else if (how === 'count') set('n', r.n + 1);
    else if (how === 'last_seq') set('last_seq', r.last_seq + 1);
    else if (how === 'hidden') set('last_seq', r.first_seq - 1);
    else if (how === 'session') set('session', 'r');
    else set('head_chars', r.head_chars - 1);
    if (!crc) set('crc', null);
    return { first: r.first_seq, last: r.last_seq };
  } finally {
    db.close();
  }
}

/** Registers `consumer` on `session` of the spool at `file`, delivered up to `seq`. */
export function setCursor(file: string, consumer: string, session: string, seq: number): void {
  const spool = new Spool(file);
  spool.register(consumer, session);
  spool.setCursor(consumer, session, seq);
  spool.close();
}

/** A spool as a recorder of sessions 5–14 left it: one row per event, and its consumers' cursors. */
export function legacySpool(file: string, events: readonly LogEvent[], cursors: readonly [name: string, session: string, seq: number][] = []): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE events (
    session TEXT NOT NULL, ingest_seq INTEGER NOT NULL, recv_ns INTEGER NOT NULL, exchange TEXT NOT NULL,
    conn TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, meta TEXT NOT NULL,
    PRIMARY KEY (session, ingest_seq)) WITHOUT ROWID`);
  db.exec('CREATE TABLE cursors (name TEXT NOT NULL, session TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (name, session))');
  db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const e of events) insert.run(e.session, e.ingestSeq, e.recvNs, e.exchange, e.conn, e.kind, e.payload, e.meta);
  })();
  for (const c of cursors) db.prepare('INSERT INTO cursors VALUES (?, ?, ?)').run(...c);
  db.close();
}
