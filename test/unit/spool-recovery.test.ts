/**
 * Recovering the spools a dead recorder left. One an older tapedeck named `.sqlite` is taken
 * over (migrated, renamed `.spool`: a tapedeck of that time reads every `.sqlite` as one row
 * per event and would remove a newer spool as empty), unless a live recorder holds it.
 *
 * A spool whose bytes were damaged on disk: a batch that does not decompress, or whose row
 * disagrees with what it decodes to, is found and named (SpoolDamaged), never read as other
 * events; recovery archives every event that reads back, sets the spool aside in `damaged/`
 * (nothing pruned, nothing deleted; what Kafka was owed counted) and goes on with the other
 * spools. A file that is not SQLite at all is set aside the same way, byte for byte.
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recoverSpools } from '../../recorder/archiver.ts';
import { openLocked, Spool, SpoolDamaged } from '../../recorder/spool.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { readArchiveEvents, tmpDir } from '../helpers.ts';
import { damage, ev, legacySpool, setCursor, writeSpool, type Damage } from '../spool-files.ts';

let dir: string;
beforeEach(() => {
  dir = tmpDir();
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A set-aside spool's batches (session, events) and how many `pruned:` marks it has. */
function setAsideHolds(file: string): { batches: [string, number][]; pruned: number } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      batches: db.prepare('SELECT session, n FROM batches ORDER BY session, first_seq').raw().all() as [string, number][],
      pruned: (db.prepare("SELECT count(*) AS n FROM meta WHERE key LIKE 'pruned:%'").get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

describe('a damaged spool batch', () => {
  const cases = (['bytes', 'one bit', 'count', 'last_seq', 'head_chars', 'session'] as Damage[]).flatMap((how) => [[how, true], [how, false]] as const)
    // Without a CRC a bit in the frame's last block can decompress into other text, and another
    // session's name reads as that session's events: the CRC is what tells.
    .filter(([how, crc]) => crc || (how !== 'one bit' && how !== 'session'));
  it.each(cases)('(%s; CRC %s) ends the read before it, throws SpoolDamaged naming it, and what follows reads once it is passed over', (how, crc) => {
    const file = path.join(dir, 's.spool');
    const all = writeSpool(file, 's', [4, 5, 6]);
    const { first } = damage(file, 1, how, { crc });
    const spool = new Spool(file);
    const session = how === 'session' ? 'r' : 's';
    try {
      expect(spool.after('s', -1, 100)).toEqual(how === 'session' ? [...all.slice(0, 4), ...all.slice(9)] : all.slice(0, 4));
      let thrown: unknown;
      try {
        spool.after(session, 3, 100);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(SpoolDamaged);
      const d = thrown as SpoolDamaged;
      expect([d.session, d.firstSeq, d.file]).toEqual([session, first, file]);
      expect(d.message).toMatch(new RegExp(`^the spool \\S+s\\.spool has a damaged batch: session ${session}, ingest_seq ${first} to ${d.lastSeq} \\(.+\\)$`));
      if (crc) expect(d.reason).toMatch(/^its bytes or columns are not those written \(CRC-32 \d+, written \d+\)$/);
      expect(spool.after('s', 3, 100, [d.batch])).toEqual(all.slice(9));
    } finally {
      spool.close();
    }
  });

  it('whose row hides it from reads by seq (last_seq before first_seq) is found by its row', () => {
    const file = path.join(dir, 's.spool');
    writeSpool(file, 's', [4, 5, 6]);
    damage(file, 1, 'hidden');
    const spool = new Spool(file);
    try {
      expect(spool.inconsistent('s').map((d) => [d.firstSeq, d.lastSeq])).toEqual([[4, 3]]);
      expect(spool.damagedAfter('s', -1).map((d) => d.firstSeq)).toEqual([4]);
    } finally {
      spool.close();
    }
  });
});

describe('recoverSpools with damaged spools', () => {
  it('archives every event that reads back, sets the damaged spools aside whole, and recovers the others', async () => {
    const spoolDir = path.join(dir, 'spool');
    const raw = path.join(dir, 'raw');
    fs.mkdirSync(spoolDir, { recursive: true });
    const good = writeSpool(path.join(spoolDir, 'a.spool'), 'a', [3, 3]);
    const bad = writeSpool(path.join(spoolDir, 'b.spool'), 'b', [2, 3, 4]);
    const { first, last } = damage(path.join(spoolDir, 'b.spool'), 1, 'bytes');
    fs.writeFileSync(path.join(spoolDir, 'c.spool'), 'not a database, whatever it was meant to be');
    const notSpool = sha(path.join(spoolDir, 'c.spool'));

    const r = recoverSpools(spoolDir, raw);

    const readable = [...good, ...bad.filter((e) => e.ingestSeq < first || e.ingestSeq > last)];
    const key = (e: LogEvent): string => `${e.session}/${e.ingestSeq}`;
    expect((await readArchiveEvents(raw)).map(key).sort()).toEqual(readable.map(key).sort());
    expect(r.events).toBe(readable.length);
    expect(r.kept).toEqual([]);
    expect(r.damaged.map((d) => [path.basename(d.file), path.relative(spoolDir, d.keptAs), d.why.length])).toEqual([
      ['c.spool', path.join('damaged', 'c.spool'), 1],
      ['b.spool', path.join('damaged', 'b.spool'), 1],
    ]);
    expect(r.damaged[0]!.why[0]).toMatch(/^it does not open as a spool: /);
    expect(r.damaged[1]!.why[0]).toMatch(new RegExp(`^session b, ingest_seq ${first} to ${last}: `));
    // Nothing is left where a recorder would recover it again; c as it was, b with all its batches.
    expect(fs.readdirSync(spoolDir).filter((f) => f.endsWith('.spool'))).toEqual([]);
    expect(sha(path.join(spoolDir, 'damaged', 'c.spool'))).toBe(notSpool);
    expect(setAsideHolds(path.join(spoolDir, 'damaged', 'b.spool'))).toEqual({ batches: [['b', 2], ['b', 3], ['b', 4]], pruned: 0 });
  });

  it('loses exactly the damaged batch, wherever it is, and never a second time: a spool set aside again gets a name of its own', async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      fc.constantFrom<Damage>('bytes', 'one bit', 'count', 'last_seq', 'head_chars', 'hidden', 'session'),
      fc.boolean(),
      async (sizes, at, how, crc) => {
        const root = path.join(dir, `p${n++}`);
        const spoolDir = path.join(root, 'spool');
        const raw = path.join(root, 'raw');
        fs.mkdirSync(path.join(spoolDir, 'damaged'), { recursive: true });
        fs.writeFileSync(path.join(spoolDir, 'damaged', 's.spool'), 'an earlier one');
        const all = writeSpool(path.join(spoolDir, 's.spool'), 's', sizes);
        const { first, last } = damage(path.join(spoolDir, 's.spool'), at % sizes.length, how, { crc: crc || how === 'one bit' || how === 'session' });
        const r = recoverSpools(spoolDir, raw);
        const readable = all.filter((e) => e.ingestSeq < first || e.ingestSeq > last);
        // All of it damaged (one batch): no archive at all.
        const archived = fs.existsSync(raw) ? await readArchiveEvents(raw) : [];
        expect(archived.map((e) => e.ingestSeq)).toEqual(readable.map((e) => e.ingestSeq));
        expect(r.damaged.map((d) => path.relative(spoolDir, d.keptAs))).toEqual([path.join('damaged', 's.2.spool')]);
        expect(fs.readFileSync(path.join(spoolDir, 'damaged', 's.spool'), 'utf8')).toBe('an earlier one');
        // Set aside whole: every batch, nothing pruned.
        const aside = setAsideHolds(path.join(spoolDir, 'damaged', 's.2.spool'));
        expect([aside.batches.length, aside.pruned]).toEqual([sizes.length, 0]);
      },
    ), { numRuns: 25 });
  });
});

/** A spool of `n` events of `session`, as a recorder before spool batches left it. */
function legacy(file: string, session: string, n: number, kafkaAt?: number): LogEvent[] {
  const events = Array.from({ length: n }, (_, i) => ev(session, i));
  legacySpool(file, events, kafkaAt === undefined ? [] : [['kafka', session, kafkaAt]]);
  return events;
}

describe('recoverSpools with a damaged spool that Kafka was owed', () => {
  it.each([
    ['in what the archive lacks too', -1],
    ['behind the archive cursor, in what only Kafka lacks', 5],
  ])('(%s) is set aside, not kept for Kafka, and says how many events Kafka had not got', async (_where, archivedTo) => {
    const spoolDir = path.join(dir, 'spool');
    const raw = path.join(dir, 'raw');
    fs.mkdirSync(spoolDir, { recursive: true });
    const file = path.join(spoolDir, 's.spool');
    const all = writeSpool(file, 's', [3, 3, 3]);
    setCursor(file, 'kafka', 's', 1);
    if (archivedTo >= 0) setCursor(file, 'archive', 's', archivedTo);
    damage(file, 1, 'bytes');
    const r = recoverSpools(spoolDir, raw);
    expect(r.kept).toEqual([]);
    expect(r.damaged.map((d) => [path.relative(spoolDir, d.keptAs), d.why.length, d.owed])).toEqual([[path.join('damaged', 's.spool'), 1, [{ consumer: 'kafka', session: 's', events: 7 }]]]);
    expect(r.damaged[0]!.why[0]).toMatch(/^session s, ingest_seq 3 to 5: /);
    const archived = fs.existsSync(raw) ? (await readArchiveEvents(raw)).map((e) => e.ingestSeq) : [];
    expect(archived).toEqual(all.filter((e) => e.ingestSeq > archivedTo && (e.ingestSeq < 3 || e.ingestSeq > 5)).map((e) => e.ingestSeq));
  });

  it('of two sessions, one damaged, prunes neither', () => {
    const spoolDir = path.join(dir, 'spool');
    fs.mkdirSync(spoolDir, { recursive: true });
    const file = path.join(spoolDir, 'two.spool');
    const spool = new Spool(file);
    for (const session of ['a', 'b']) {
      for (let i = 0; i < 4; i++) spool.add(ev(session, i));
      spool.commit();
    }
    spool.close();
    damage(file, 1, 'bytes');
    const r = recoverSpools(spoolDir, path.join(dir, 'raw'));
    expect(r.damaged).toHaveLength(1);
    expect(setAsideHolds(r.damaged[0]!.keptAs)).toEqual({ batches: [['a', 4], ['b', 4]], pruned: 0 });
  });
});

describe('recoverSpools with spools an older tapedeck named .sqlite', () => {
  it('says it migrates each, archives them, and one kept for Kafka is kept as <session>.spool, where an older tapedeck never looks', async () => {
    const spoolDir = path.join(dir, 'spool');
    const raw = path.join(dir, 'raw');
    fs.mkdirSync(spoolDir, { recursive: true });
    const done = legacy(path.join(spoolDir, 'done.sqlite'), 'done', 7);
    const lagging = legacy(path.join(spoolDir, 'lagging.sqlite'), 'lagging', 9, 3);
    const migrated: [string, number][] = [];
    const r = recoverSpools(spoolDir, raw, { onMigrate: (file, n) => migrated.push([path.basename(file), n]) });
    expect(migrated).toEqual([['done.sqlite', 7], ['lagging.sqlite', 9]]);
    try {
      const key = (e: LogEvent): string => `${e.session}/${e.ingestSeq}`;
      expect((await readArchiveEvents(raw)).map(key).sort()).toEqual([...done, ...lagging].map(key).sort());
      expect(r.kept.map((k) => path.basename(k.spool.file))).toEqual(['lagging.spool']);
      expect(r.kept[0]!.undelivered).toEqual([{ session: 'lagging', events: 5, consumers: ['kafka'] }]);
      expect(r.kept[0]!.spool.after('lagging', 3, 100)).toEqual(lagging.slice(4));
    } finally {
      for (const k of r.kept) k.spool.close();
    }
    expect(fs.readdirSync(spoolDir).filter((f) => !f.startsWith('recovery')).sort()).toEqual(['lagging.spool']);
  });

  it('leaves one that a live recorder holds as it is, under its own name', () => {
    const spoolDir = path.join(dir, 'spool');
    fs.mkdirSync(spoolDir, { recursive: true });
    const file = path.join(spoolDir, 'live.sqlite');
    legacy(file, 'live', 4);
    const held = openLocked(file, true);
    try {
      const r = recoverSpools(spoolDir, path.join(dir, 'raw'));
      expect([r.spools, r.kept, r.damaged]).toEqual([[], [], []]);
      expect(fs.readdirSync(spoolDir).sort()).toEqual(['live.sqlite', 'live.sqlite-wal']);
    } finally {
      held.close();
    }
  });
});

describe('what is not a spool file', () => {
  it('a folder, a FIFO or a dangling link of a spool\'s name is left alone, and the spools beside it recovered', async () => {
    const spoolDir = path.join(dir, 'spool');
    const raw = path.join(dir, 'raw');
    fs.mkdirSync(path.join(spoolDir, 'folder.spool'), { recursive: true });
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(spoolDir, 'dangling.sqlite'));
    spawnSync('mkfifo', [path.join(spoolDir, 'fifo.spool')]);
    const all = writeSpool(path.join(spoolDir, 's.spool'), 's', [2, 2]);
    const r = recoverSpools(spoolDir, raw);
    expect([r.events, r.damaged, r.kept]).toEqual([all.length, [], []]);
    expect(fs.readdirSync(spoolDir).sort()).toEqual(['dangling.sqlite', 'fifo.spool', 'folder.spool']);
  });
});

describe('a spool whose marks are damaged', () => {
  it.each([
    ['an empty pruned: mark', "INSERT INTO meta VALUES ('pruned:s', '')"],
    ['a pruned: mark of text', "INSERT INTO meta VALUES ('pruned:s', 'abc')"],
    ['a fractional pruned: mark', "INSERT INTO meta VALUES ('pruned:s', '2.5')"],
    ['a pruned: mark past 2^53', "INSERT INTO meta VALUES ('pruned:s', '100000000000000000000')"],
    ['an archive cursor of text', "INSERT INTO cursors VALUES ('archive', 's', 'abc')"],
    ['an archive cursor past 2^63', "INSERT INTO cursors VALUES ('archive', 's', 1e30)"],
  ])('(%s) hides nothing: recovery archives every event', async (_what, sql) => {
    const spoolDir = path.join(dir, 'spool');
    const raw = path.join(dir, 'raw');
    fs.mkdirSync(spoolDir, { recursive: true });
    const all = writeSpool(path.join(spoolDir, 's.spool'), 's', [3, 4]);
    const db = new Database(path.join(spoolDir, 's.spool'));
    db.exec(sql);
    db.close();
    const r = recoverSpools(spoolDir, raw);
    expect([r.events, r.damaged]).toEqual([all.length, []]);
    expect((await readArchiveEvents(raw)).map((e) => e.ingestSeq)).toEqual(all.map((e) => e.ingestSeq));
  });
});
