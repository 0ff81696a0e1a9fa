/**
 * The archive roller on a thread of its own (TAPEDECK_ROLL_THREAD=1), with a real spool file
 * and worker: what waits in the spool while the worker is behind is read back a slice at a
 * time (never more than MAX_QUEUED events handed over and unwritten when the next slice is
 * read), a roll archives all of it and moves the cursor; a batch damaged in the spool stops
 * the roller through its fault handler (the recorder then stops with one line), never with a
 * throw out of a timer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchiveRoller } from '../../recorder/roller.ts';
import { Spool, SpoolDamaged } from '../../recorder/spool.ts';
import { damage, ev, writeSpool } from '../spool-files.ts';
import { readArchiveEvents, tmpDir } from '../helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A spool of `sizes` commits, opened as the recorder opens it, and a roller on it whose worker has nothing yet. */
function behindRoller(sizes: number[], damaged?: number) {
  const dir = tmpDir();
  dirs.push(dir);
  const file = path.join(dir, 'spool', 's1.spool');
  const raw = path.join(dir, 'raw');
  const events = writeSpool(file, 's1', sizes);
  if (damaged !== undefined) damage(file, damaged, 'one bit');
  const spool = new Spool(file, { exclusive: true });
  const faults: Error[] = [];
  const roller = new ArchiveRoller(spool, 's1', raw, (err) => faults.push(err));
  // How many events waited for the worker each time the roller read a slice back.
  const queuedAtRead: number[] = [];
  const after = spool.after.bind(spool);
  spool.after = (...args) => {
    queuedAtRead.push(roller.queuedEvents);
    return after(...args);
  };
  return { spool, roller, raw, events, faults, queuedAtRead };
}

describe('ArchiveRoller', () => {
  it('reads a backlog back a slice at a time and archives all of it at a roll', async () => {
    const sizes = Array.from({ length: 16 }, () => 10_000);
    const { spool, roller, raw, events, faults, queuedAtRead } = behindRoller(sizes);
    try {
      // The last commit's rows arrive while nothing before them was handed over: the roller is behind.
      roller.add(events.slice(-10_000));
      const files = await roller.roll();
      expect(faults).toEqual([]);
      expect(files.length).toBeGreaterThan(0);
      expect(spool.cursor('archive', 's1')).toBe(events.length - 1);
      expect(queuedAtRead.length).toBeGreaterThan(3);
      expect(Math.max(...queuedAtRead)).toBeLessThan(50_000);
      expect((await readArchiveEvents(raw)).map((e) => e.ingestSeq)).toEqual(events.map((e) => e.ingestSeq));
    } finally {
      await roller.close();
      spool.close();
    }
  }, 60_000);

  it('ends a roll at the last commit handed in, while commits go on arriving behind it', async () => {
    const { spool, roller, events, faults } = behindRoller(Array.from({ length: 10 }, () => 10_000));
    try {
      roller.add(events.slice(-10_000));
      const upTo = events.length - 1;
      // Ingest outruns the worker: each time the roller reads the spool back, a commit of 1k
      // more events has landed behind what it reads (at most 300 of them: 300k events).
      let next = events.length;
      let commits = 0;
      const after = spool.after.bind(spool);
      spool.after = (...args) => {
        if (commits < 300) {
          commits++;
          for (let k = 0; k < 1_000; k++) spool.add(ev('s1', next++));
          spool.commit();
        }
        return after(...args);
      };
      await roller.roll();
      expect(commits, 'the roll ended while commits were still arriving').toBeLessThan(300);
      expect(faults).toEqual([]);
      expect(spool.cursor('archive', 's1')).toBeGreaterThanOrEqual(upTo);
    } finally {
      await roller.close();
      spool.close();
    }
  }, 120_000);

  it('stops through its fault handler on a batch damaged in the spool, archiving nothing past it', async () => {
    const { spool, roller, raw, events, faults } = behindRoller([1_000, 1_000, 1_000, 1_000], 2);
    try {
      // Behind from the start: reading back, the third batch does not (a commit's add, not a throw).
      expect(() => roller.add(events.slice(-1_000))).not.toThrow();
      await expect(roller.roll()).rejects.toBeInstanceOf(SpoolDamaged);
      expect(faults).toHaveLength(1);
      expect(faults[0]).toBeInstanceOf(SpoolDamaged);
      expect((faults[0] as SpoolDamaged).firstSeq).toBe(2_000);
      expect(spool.cursor('archive', 's1')).toBe(-1);
      expect(fs.existsSync(raw) ? fs.readdirSync(raw, { recursive: true }).filter((f) => String(f).endsWith('.parquet')) : []).toEqual([]);
    } finally {
      await roller.close();
      spool.close();
    }
  }, 60_000);
});
