/**
 * The spool: commits read back exactly (one row per commit: spool-batch.ts), in any slice
 * (`after` with a limit, as the Kafka forwarder and the archive's catch-up read it), a spool
 * of the older one-row-per-event form is migrated whole, and the recorder prunes it a slice
 * at a time (Spool.pruneSome, at each commit): never past what every consumer has delivered
 * (the archive cursor, and Kafka's when it records to Kafka), at most `maxSeqs` ingest_seqs a
 * call, and in the end exactly what one whole prune deletes. Properties over random commits,
 * cursor moves and slice sizes, on a real SQLite spool.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeBatch, packBatch } from '../../recorder/spool-batch.ts';
import { BATCH_CHARS, Spool } from '../../recorder/spool.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { tmpDir } from '../helpers.ts';
import { legacySpool } from '../spool-files.ts';

let dir: string;
beforeEach(() => {
  dir = tmpDir();
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const ev = (i: number): LogEvent => ({ session: 's', ingestSeq: i, recvNs: BigInt(i), exchange: 'x', conn: 'x.0', kind: 'frame', payload: `{"n":${i}}`, meta: '' });

/** Ingest_seqs left in the spool, in order. */
const left = (spool: Spool): number[] => spool.after('s', -1, 1e9).map((e) => e.ingestSeq);

describe('Spool.commit', () => {
  it('reads back every committed event field for field, whatever the batch sizes, and in slices of any size from any point', () => {
    let n = 0;
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 6 }), fc.string(), (sizes, text) => {
      const spool = new Spool(path.join(dir, `c${n++}.sqlite`));
      try {
        const added: LogEvent[] = [];
        for (const size of sizes) {
          for (let i = 0; i < size; i++) {
            const e = { ...ev(added.length), payload: `${text}#${added.length}`, meta: added.length % 3 === 0 ? text : '' };
            added.push(e);
            spool.add(e);
          }
          expect(spool.commit().length).toBe(size);
        }
        expect(spool.after('s', -1, 1e9)).toEqual(added);
        expect(spool.count()).toBe(added.length);
        // Sliced as a consumer reads it: from its cursor, `limit` at a time.
        const limit = 1 + (text.length % 37);
        for (let from = -1; from < added.length - 1; from += limit) {
          expect(spool.after('s', from, limit)).toEqual(added.slice(from + 1, from + 1 + limit));
          expect(spool.countAfter('s', from)).toBe(added.length - from - 1);
        }
      } finally {
        spool.close();
      }
    }), { numRuns: 40 });
  });
});

describe('a spool of one row per event (before spool batches)', () => {
  it('is migrated when opened: every event of every session reads back, with its cursors', () => {
    const file = path.join(dir, 'old.sqlite');
    const events = [...Array.from({ length: 25_000 }, (_, i) => ({ ...ev(i + 7), recvNs: 1_700_000_000_123_456_789n + BigInt(i), payload: `{"n":${i},"é":"\u00e9€𝄞"}` })),
      ...Array.from({ length: 3 }, (_, i) => ({ ...ev(i), session: 'a-older', kind: 'tick' as const, exchange: '', conn: '', payload: '', meta: '' }))];
    legacySpool(file, events, [['kafka', 's', 10]]);
    const spool = new Spool(file, { exclusive: true });
    try {
      expect(spool.sessions()).toEqual(['a-older', 's']);
      expect(spool.after('a-older', -1, 1e9)).toEqual(events.slice(25_000));
      expect(spool.after('s', -1, 1e9)).toEqual(events.slice(0, 25_000));
      expect(spool.cursor('kafka', 's')).toBe(10);
      expect(spool.countAfter('s', 10)).toBe(25_000 - 4);
    } finally {
      spool.close();
    }
    const again = new Spool(file);
    try {
      expect(again.count()).toBe(25_003);
    } finally {
      again.close();
    }
  });
});

describe('a batch read after the one before it was pruned', () => {
  it('reads as itself, though SQLite gave it the deleted batch\'s rowid', () => {
    const spool = new Spool(path.join(dir, 'reuse.spool'));
    try {
      spool.add(ev(0));
      spool.commit();
      expect(spool.after('s', -1, 10)).toEqual([ev(0)]);
      spool.setCursor('archive', 's', 0);
      spool.prune('s', ['archive']);
      spool.add(ev(1));
      spool.commit();
      expect(spool.after('s', -1, 10)).toEqual([ev(1)]);
    } finally {
      spool.close();
    }
  });
});

describe('a commit of long events', () => {
  it('is cut into batches of at most BATCH_CHARS (one string each), and reads back whole', () => {
    const file = path.join(dir, 'long.spool');
    const spool = new Spool(file);
    try {
      // ~2.6 batch limits of payload: one batch would be one string of all of it.
      const events = Array.from({ length: 4 }, (_, i) => ({ ...ev(i), payload: String.fromCharCode(97 + i).repeat(Math.ceil(BATCH_CHARS * 0.65)) }));
      for (const e of events) spool.add(e);
      spool.commit();
      spool.add(ev(4));
      spool.commit();
      expect(spool.after('s', -1, 100)).toEqual([...events, ev(4)]);
    } finally {
      spool.close();
    }
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT first_seq, n FROM batches ORDER BY first_seq').raw().all()).toEqual([[0, 1], [1, 1], [2, 1], [3, 1], [4, 1]]);
    db.close();
  });
});

describe('a spool format', () => {
  it('newer than this tapedeck reads is refused in one line, and nothing is written into it', () => {
    const file = path.join(dir, 'newer.sqlite');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.exec('CREATE TABLE whatever_comes_next (x)');
    db.close();
    expect(() => new Spool(file, { exclusive: true })).toThrow(/^the spool .*newer\.sqlite was written by a newer tapedeck \(spool format 99; this one reads up to 3\)/);
    const after = new Database(file, { readonly: true });
    expect(after.prepare('SELECT name FROM sqlite_master').all()).toEqual([{ name: 'whatever_comes_next' }]);
    expect(after.pragma('user_version', { simple: true })).toBe(99);
    after.close();
  });
});

describe('a spool of format 2 (packed batches without a CRC)', () => {
  it('reads back as written, gains the CRC column, and its new batches carry a CRC', () => {
    const file = path.join(dir, 'two.sqlite');
    const db = new Database(file);
    db.exec(`CREATE TABLE batches (session TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, n INTEGER NOT NULL,
      head_chars INTEGER NOT NULL, bytes INTEGER NOT NULL, data BLOB NOT NULL)`);
    const old = [ev(0), ev(1), ev(2)];
    const p = packBatch(encodeBatch(old, 0, 3));
    db.prepare('INSERT INTO batches VALUES (?, 0, 2, 3, ?, ?, ?)').run('s', p.headChars, p.bytes, p.data);
    db.pragma('user_version = 2');
    db.close();
    const spool = new Spool(file);
    try {
      spool.add(ev(3));
      spool.commit();
      expect(spool.after('s', -1, 100)).toEqual([...old, ev(3)]);
    } finally {
      spool.close();
    }
    const after = new Database(file, { readonly: true });
    expect(after.prepare('SELECT first_seq, crc IS NOT NULL AS has_crc FROM batches ORDER BY first_seq').raw().all()).toEqual([[0, 0], [3, 1]]);
    expect(after.pragma('user_version', { simple: true })).toBe(3);
    after.close();
  });
});

describe('deferred checkpoints', () => {
  it('keep the WAL bounded when every commit is small (each still writes whole pages)', () => {
    const file = path.join(dir, 'small.sqlite');
    const spool = new Spool(file, { exclusive: true, deferCheckpoints: true });
    try {
      // A quiet recorder: a tick or a frame a commit, ~8 KiB of WAL each.
      for (let i = 0; i < 1_500; i++) {
        spool.add(ev(i));
        spool.commit();
        spool.checkpointIfDue();
      }
      expect(fs.statSync(`${file}-wal`).size).toBeLessThan(6 << 20);
      expect(spool.count()).toBe(1_500);
    } finally {
      spool.close();
    }
  });
});

describe('Spool.pruneSome', () => {
  it('deletes only what every consumer has, at most maxSeqs a call, and ends where a whole prune does', () => {
    let n = 0;
    fc.assert(fc.property(
      fc.array(fc.record({ add: fc.integer({ min: 0, max: 300 }), archive: fc.nat(), kafka: fc.nat(), slice: fc.integer({ min: 1, max: 200 }) }), { minLength: 1, maxLength: 12 }),
      (steps) => {
        const spool = new Spool(path.join(dir, `p${n++}.sqlite`));
        try {
          spool.register('archive', 's');
          spool.register('kafka', 's');
          let seq = 0;
          let archive = -1;
          let kafka = -1;
          for (const st of steps) {
            for (let i = 0; i < st.add; i++) spool.add(ev(seq++));
            spool.commit();
            // Cursors only move forward, and never past what was committed.
            archive = Math.max(archive, Math.min(seq - 1, st.archive % (seq + 1) - 1));
            kafka = Math.max(kafka, Math.min(seq - 1, st.kafka % (seq + 1) - 1));
            spool.setCursor('archive', 's', archive);
            spool.setCursor('kafka', 's', kafka);
            const before = left(spool);
            spool.pruneSome('s', ['archive', 'kafka'], st.slice);
            const after = left(spool);
            const deleted = before.filter((i) => !after.includes(i));
            const delivered = Math.min(archive, kafka);
            expect(deleted.every((i) => i <= delivered)).toBe(true);
            expect(deleted.length).toBeLessThanOrEqual(st.slice);
            // What is kept past the slice is what a prune keeps.
            expect(after.filter((i) => i > delivered)).toEqual(before.filter((i) => i > delivered));
          }
          // Enough slices delete exactly what one prune would.
          const delivered = Math.min(archive, kafka);
          for (let i = 0; i < 20; i++) spool.pruneSome('s', ['archive', 'kafka'], 200);
          expect(left(spool)).toEqual(Array.from({ length: seq }, (_, i) => i).filter((i) => i > delivered));
        } finally {
          spool.close();
        }
      },
    ), { numRuns: 60 });
  });
});
