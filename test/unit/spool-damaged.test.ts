/**
 * A spool whose bytes were damaged on disk: a batch that does not decompress, or whose row
 * disagrees with what it decodes to, is found and named (SpoolDamaged), never read as other
 * events; recovery archives every event that reads back, sets the spool aside untouched in
 * `damaged/` (nothing pruned, nothing deleted) and goes on with the other spools. A file that
 * is not SQLite at all is set aside the same way, byte for byte.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recoverSpools } from '../../recorder/archiver.ts';
import { Spool, SpoolDamaged } from '../../recorder/spool.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { readArchiveEvents, tmpDir } from '../helpers.ts';
import { damage, writeSpool, type Damage } from '../spool-damage.ts';

let dir: string;
beforeEach(() => {
  dir = tmpDir();
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('a damaged spool batch', () => {
  it.each<Damage>(['bytes', 'count', 'last_seq', 'head_chars'])('(%s) ends the read before it, throws SpoolDamaged naming it, and the batches after it still read', (how) => {
    const file = path.join(dir, 's.sqlite');
    const all = writeSpool(file, 's', [4, 5, 6]);
    const { first, last } = damage(file, 1, how);
    const spool = new Spool(file);
    try {
      expect(spool.after('s', -1, 100)).toEqual(all.slice(0, 4));
      let thrown: unknown;
      try {
        spool.after('s', 3, 100);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(SpoolDamaged);
      const d = thrown as SpoolDamaged;
      expect([d.session, d.firstSeq, d.file]).toEqual(['s', first, file]);
      // A damaged last_seq is the row's word; reading on from it skips no later batch.
      expect(d.lastSeq).toBe(how === 'last_seq' ? last + 1 : last);
      expect(d.message).toMatch(new RegExp(`^the spool \\S+s\\.sqlite has a damaged batch: session s, ingest_seq ${first} to ${d.lastSeq} \\(.+\\)$`));
      expect(spool.after('s', d.lastSeq, 100)).toEqual(all.slice(how === 'last_seq' ? 10 : 9));
    } finally {
      spool.close();
    }
  });
});

describe('recoverSpools with damaged spools', () => {
  it('archives every event that reads back, sets the damaged spools aside untouched, and recovers the others whole', async () => {
    const spoolDir = path.join(dir, 'spool');
    const raw = path.join(dir, 'raw');
    fs.mkdirSync(spoolDir, { recursive: true });
    const good = writeSpool(path.join(spoolDir, 'a.sqlite'), 'a', [3, 3]);
    const bad = writeSpool(path.join(spoolDir, 'b.sqlite'), 'b', [2, 3, 4]);
    const { first, last } = damage(path.join(spoolDir, 'b.sqlite'), 1, 'bytes');
    fs.writeFileSync(path.join(spoolDir, 'c.sqlite'), 'not a database, whatever it was meant to be');
    const notSpool = sha(path.join(spoolDir, 'c.sqlite'));

    const r = recoverSpools(spoolDir, raw);

    const readable = [...good, ...bad.filter((e) => e.ingestSeq < first || e.ingestSeq > last)];
    const key = (e: LogEvent): string => `${e.session}/${e.ingestSeq}`;
    expect((await readArchiveEvents(raw)).map(key).sort()).toEqual(readable.map(key).sort());
    expect(r.events).toBe(readable.length);
    expect(r.kept).toEqual([]);
    expect(r.damaged.map((d) => [path.basename(d.file), path.relative(spoolDir, d.keptAs), d.why.length])).toEqual([
      ['c.sqlite', path.join('damaged', 'c.sqlite'), 1],
      ['b.sqlite', path.join('damaged', 'b.sqlite'), 1],
    ]);
    expect(r.damaged[0]!.why[0]).toMatch(/^it does not open as a spool: /);
    expect(r.damaged[1]!.why[0]).toMatch(new RegExp(`^session b, ingest_seq ${first} to ${last}: `));
    // Nothing is left where a recorder would recover it again; c as it was, b with all its batches.
    expect(fs.readdirSync(spoolDir).filter((f) => f.endsWith('.sqlite'))).toEqual([]);
    expect(sha(path.join(spoolDir, 'damaged', 'c.sqlite'))).toBe(notSpool);
    const kept = new Database(path.join(spoolDir, 'damaged', 'b.sqlite'), { readonly: true });
    try {
      expect((kept.prepare('SELECT count(*) AS n, sum(n) AS events FROM batches').get() as { n: number; events: number })).toEqual({ n: 3, events: bad.length });
      expect(kept.prepare("SELECT count(*) AS n FROM meta WHERE key LIKE 'pruned:%'").get()).toEqual({ n: 0 });
    } finally {
      kept.close();
    }
  });

  it('loses exactly the damaged batch, wherever it is, and never a second time: a spool set aside again gets a name of its own', async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      fc.constantFrom<Damage>('bytes', 'count', 'head_chars'),
      async (sizes, at, how) => {
        const root = path.join(dir, `p${n++}`);
        const spoolDir = path.join(root, 'spool');
        const raw = path.join(root, 'raw');
        fs.mkdirSync(path.join(spoolDir, 'damaged'), { recursive: true });
        fs.writeFileSync(path.join(spoolDir, 'damaged', 's.sqlite'), 'an earlier one');
        const all = writeSpool(path.join(spoolDir, 's.sqlite'), 's', sizes);
        const { first, last } = damage(path.join(spoolDir, 's.sqlite'), at % sizes.length, how);
        const r = recoverSpools(spoolDir, raw);
        const readable = all.filter((e) => e.ingestSeq < first || e.ingestSeq > last);
        // All of it damaged (one batch): no archive at all.
        const archived = fs.existsSync(raw) ? await readArchiveEvents(raw) : [];
        expect(archived.map((e) => e.ingestSeq)).toEqual(readable.map((e) => e.ingestSeq));
        expect(r.damaged.map((d) => path.relative(spoolDir, d.keptAs))).toEqual([path.join('damaged', 's.2.sqlite')]);
        expect(fs.readFileSync(path.join(spoolDir, 'damaged', 's.sqlite'), 'utf8')).toBe('an earlier one');
      },
    ), { numRuns: 25 });
  });
});
