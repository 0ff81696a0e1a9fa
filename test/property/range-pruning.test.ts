/**
 * A replay of a time range (--start/--end) does not read the archive files and row groups
 * whose recv_ns statistics lie wholly outside it (replayer/read.ts, src/storage/archive-read.ts).
 * What it yields must be exactly what the whole archive read and then filtered yields: the
 * same events, in the same order, each once, for any range, any file and row-group cut,
 * duplicated rows across files (a crash mid-roll), several sessions, and files without
 * statistics (other tools'); and it must truly not read what it skips.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planArchive, readArchiveBatches, type TimeRange } from '../../replayer/read.ts';
import { importRecordings } from '../../src/importers/import.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { simulateSession } from '../../src/sim/session.ts';
import { archiveFileBatches, archiveFileHead, listArchiveFiles, readArchiveFile } from '../../src/storage/archive-read.ts';
import { ArchiveWriter } from '../../src/storage/archive.ts';
import { realFixturesDir, tmpDir } from '../helpers.ts';

async function collect(batches: AsyncIterable<LogEvent[]>): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  for await (const b of batches) for (const ev of b) out.push(ev);
  return out;
}

const inRange = (r: TimeRange) => (ev: LogEvent): boolean => (r.startNs === undefined || ev.recvNs >= r.startNs) && (r.endNs === undefined || ev.recvNs < r.endNs);

function writeSession(dir: string, seed: number, durationMs: number, maxRows: number, rowGroupRows: number): LogEvent[] {
  const events = simulateSession({ seed, startMs: Date.UTC(2024, 7, 9), durationMs, exchanges: ['binance', 'coinbase'], session: `rp-${seed}` });
  const w = new ArchiveWriter(dir, events[0]!.session, { maxRows, rowGroupRows });
  for (const ev of events) w.write(ev);
  w.close();
  return events;
}

/** A range from two fractions of the span [t0, t1], either end possibly open. */
function rangeOf(t0: bigint, t1: bigint, a: number, b: number, open: number): TimeRange {
  const at = (x: number): bigint => t0 + ((t1 - t0) * BigInt(Math.round(x * 10_000))) / 10_000n;
  const lo = at(Math.min(a, b));
  const hi = at(Math.max(a, b));
  return { ...(open !== 1 ? { startNs: lo } : {}), ...(open !== 2 ? { endNs: hi } : {}) };
}

describe('a time range reads only the files and row groups it needs', () => {
  it('yields exactly the whole read filtered by the range, for any range and cut (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 300, max: 6_000 }), fc.integer({ min: 50, max: 2_000 }),
      fc.double({ min: -0.1, max: 1.1, noNaN: true }), fc.double({ min: -0.1, max: 1.1, noNaN: true }), fc.integer({ min: 0, max: 3 }), fc.boolean(),
      fc.option(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: -1, max: 1 }), fc.integer({ min: -1, max: 1 })), { nil: undefined }),
      async (seed, maxRows, rowGroupRows, a, b, open, duplicate, edges) => {
        const dir = tmpDir('tapedeck-rp-');
        try {
          const root = path.join(dir, 'raw');
          const events = [...writeSession(root, seed, 40_000, maxRows, rowGroupRows), ...writeSession(root, seed + 1, 30_000, maxRows + 11, rowGroupRows + 3)];
          if (duplicate) {
            // A crash mid-roll archives some rows twice: a copy of a file under the next part's name.
            const files = listArchiveFiles(root);
            const f = files[Math.floor(files.length / 2)]!;
            fs.copyFileSync(f, f.replace(/-(\d{12})\.parquet$/, (_, n: string) => `-${String(Number(n) + 1).padStart(12, '0')}.parquet`));
          }
          const plan = await planArchive(root);
          const times = events.map((e) => e.recvNs).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
          let range = rangeOf(times[0]!, times.at(-1)!, a, b, open);
          if (edges !== undefined) {
            // Ends on a file's first or last receive time, or one nanosecond either side of it.
            const ends = [...plan.sessions.values()].flat().flatMap((h) => [h.recvNs!.min, h.recvNs!.max]);
            const [i, j, di, dj] = edges;
            const x = ends[i % ends.length]! + BigInt(di);
            const y = ends[j % ends.length]! + BigInt(dj);
            range = { startNs: x < y ? x : y, endNs: x < y ? y : x };
          }
          const whole = await collect(readArchiveBatches(plan));
          expect(whole.length).toBe(events.length);
          expect(await collect(readArchiveBatches(plan, range))).toEqual(whole.filter(inRange(range)));
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    ), { numRuns: 12 });
  }, 240_000);

  it('does not open a file wholly outside the range: one gone after planning does not stop the replay', async () => {
    const dir = tmpDir('tapedeck-rp-');
    try {
      const root = path.join(dir, 'raw');
      const events = writeSession(root, 7, 60_000, 200, 50);
      const files = listArchiveFiles(root);
      const plan = await planArchive(root);
      const firstHead = (await archiveFileHead(files[0]!))!;
      // The first file goes after the plan listed it: reading it now fails.
      fs.rmSync(files[0]!);
      await expect(collect(readArchiveBatches(plan))).rejects.toThrow(/cannot read/);
      const range = { startNs: firstHead.recvNs!.max + 1n };
      const got = await collect(readArchiveBatches(plan, range));
      expect(got.length).toBeGreaterThan(0);
      expect(got).toEqual(events.filter(inRange(range)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('skips row groups outside the window within a file, and reads every one that overlaps it', async () => {
    const dir = tmpDir('tapedeck-rp-');
    try {
      const root = path.join(dir, 'raw');
      writeSession(root, 3, 60_000, 1_000_000, 40);
      const file = listArchiveFiles(root).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!;
      const whole = await readArchiveFile(file);
      const { min, max } = (await archiveFileHead(file))!.recvNs!;
      const window = { startNs: min + (max - min) / 2n, endNs: min + (3n * (max - min)) / 5n };
      const read = await collect(archiveFileBatches(file, { window }));
      const wanted = whole.filter(inRange(window));
      expect(wanted.length).toBeGreaterThan(0);
      // Every wanted row is read, in file order; most of the file is not.
      expect(read.filter(inRange(window))).toEqual(wanted);
      expect(read.length).toBeLessThan(whole.length / 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!realFixturesDir())('on the real BTCUSDT import, any range equals the whole read filtered (property)', async () => {
    const dir = tmpDir('tapedeck-rp-');
    try {
      const inputs = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => path.join(realFixturesDir()!, 'binance/hftbacktest', f));
      await importRecordings(inputs, { format: 'hftbacktest', out: dir });
      const plan = await planArchive(dir);
      const whole = await collect(readArchiveBatches(plan));
      const heads = [...plan.sessions.values()].flat();
      expect(heads.every((h) => h.recvNs !== undefined)).toBe(true);
      const t0 = whole[0]!.recvNs;
      const t1 = whole.at(-1)!.recvNs;
      await fc.assert(fc.asyncProperty(fc.double({ min: -0.05, max: 1.05, noNaN: true }), fc.double({ min: -0.05, max: 1.05, noNaN: true }), fc.integer({ min: 0, max: 3 }), async (a, b, open) => {
        const range = rangeOf(t0, t1, a, b, open);
        expect(await collect(readArchiveBatches(plan, range))).toEqual(whole.filter(inRange(range)));
      }), { numRuns: 10 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
