/**
 * Spools for the damaged-spool tests (test/unit/spool-recovery.test.ts, the recorder's e2e):
 * written through Spool as a recorder writes them, then damaged in place as a disk would.
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

/** How batch `k` (in ingest order) is damaged: its packed bytes, or a column of its row. */
export type Damage = 'bytes' | 'one bit' | 'count' | 'last_seq' | 'head_chars';

export function damage(file: string, k: number, how: Damage): { first: number; last: number } {
  const db = new Database(file);
  try {
    db.defaultSafeIntegers(false);
    const rows = db.prepare('SELECT rowid AS id, first_seq, last_seq, n, head_chars, data FROM batches ORDER BY last_seq').all() as { id: number; first_seq: number; last_seq: number; n: number; head_chars: number; data: Buffer }[];
    const r = rows[k]!;
    if (how === 'bytes') {
      const data = Buffer.from(r.data);
      data.fill(0x5a, 4, Math.min(data.length, 24));
      db.prepare('UPDATE batches SET data = ? WHERE rowid = ?').run(data, r.id);
    } else if (how === 'one bit') {
      // Near the end of the frame: its last block, which would decompress into other text.
      const data = Buffer.from(r.data);
      data[data.length - 3]! ^= 1;
      db.prepare('UPDATE batches SET data = ? WHERE rowid = ?').run(data, r.id);
    } else if (how === 'count') {
      db.prepare('UPDATE batches SET n = ? WHERE rowid = ?').run(r.n + 1, r.id);
    } else if (how === 'last_seq') {
      db.prepare('UPDATE batches SET last_seq = ? WHERE rowid = ?').run(r.last_seq + 1, r.id);
    } else {
      db.prepare('UPDATE batches SET head_chars = ? WHERE rowid = ?').run(r.head_chars - 1, r.id);
    }
    return { first: r.first_seq, last: r.last_seq };
  } finally {
    db.close();
  }
}

