/**
 * The archive reader thread (replayer/read-thread.ts): what crosses the thread boundary
 * comes back field for field, the threaded read yields exactly the in-line read's events in
 * its order (any time range, any file cut), a broken file fails the same way, running out of
 * heap is one clear error, and a consumer that stops early stops the thread and closes files.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planArchive, readArchiveBatches, type TimeRange } from '../../replayer/read.ts';
import { replay } from '../../replayer/replay.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import { readArchiveThreaded } from '../../replayer/read-thread.ts';
import { WireDecoder, WireEncoder } from '../../replayer/read-wire.ts';
import { LOG_KINDS, type LogEvent } from '../../src/log/event.ts';
import { simulateSession } from '../../src/sim/session.ts';
import { ArchiveError, ArchiveWriter } from '../../src/storage/archive.ts';
import { tmpDir } from '../helpers.ts';

const logEvent: fc.Arbitrary<LogEvent> = fc.record({
  session: fc.string({ unit: 'binary', maxLength: 12 }),
  ingestSeq: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  recvNs: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  exchange: fc.constantFrom('binance', 'coinbase', 'kraken', ''),
  conn: fc.string({ maxLength: 6 }),
  kind: fc.constantFrom(...LOG_KINDS),
  payload: fc.string({ unit: 'binary', maxLength: 300 }),
  meta: fc.string({ unit: 'grapheme', maxLength: 20 }),
});

async function collect(batches: AsyncIterable<LogEvent[]>): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  for await (const b of batches) for (const ev of b) out.push(ev);
  return out;
}

function writeSession(dir: string, seed: number, durationMs: number, maxRows: number): LogEvent[] {
  const events = simulateSession({ seed, startMs: Date.UTC(2024, 7, 9), durationMs, exchanges: ['binance', 'coinbase'], session: `rt-${seed}` });
  const w = new ArchiveWriter(dir, events[0]!.session, { maxRows });
  for (const ev of events) w.write(ev);
  w.close();
  return events;
}

describe('archive reader thread', () => {
  it('encodes and decodes batches field for field, the string table carried across batches (property)', () => {
    fc.assert(fc.property(fc.array(fc.array(logEvent, { maxLength: 30 }), { maxLength: 6 }), (batches) => {
      const enc = new WireEncoder();
      const dec = new WireDecoder();
      for (const b of batches) {
        const { batch } = enc.encode(b);
        // Through the same structured clone a worker's postMessage uses.
        expect(dec.decode(structuredClone(batch))).toEqual(b);
      }
    }));
  });

  it('yields exactly the in-line read, in order, for any file cut and time range (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 200, max: 20_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(),
      async (seed, maxRows, a, b, ranged) => {
        const dir = tmpDir('tapedeck-rt-');
        try {
          const events = [...writeSession(path.join(dir, 'one'), seed, 40_000, maxRows), ...writeSession(path.join(dir, 'two'), seed + 1, 30_000, maxRows + 7)];
          // Both sessions in one archive, so the merge across sessions runs in the thread too.
          for (const s of ['one', 'two']) fs.cpSync(path.join(dir, s), path.join(dir, 'both'), { recursive: true });
          const plan = await planArchive(path.join(dir, 'both'));
          const t0 = events[0]!.recvNs;
          const span = events.at(-1)!.recvNs - t0;
          const at = (x: number): bigint => t0 + (span * BigInt(Math.round(x * 1000))) / 1000n;
          const range: TimeRange = ranged ? { startNs: at(Math.min(a, b)), endNs: at(Math.max(a, b)) } : {};
          const inline = await collect(readArchiveBatches(plan, range));
          expect(await collect(readArchiveThreaded(plan, range))).toEqual(inline);
          if (!ranged) expect(inline.length).toBe(events.length);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    ), { numRuns: 8 });
  }, 120_000);

  it('replay gives the same outputs with the archive read on its thread and in line', async () => {
    const dir = tmpDir('tapedeck-rt-');
    try {
      writeSession(path.join(dir, 'raw'), 11, 90_000, 3_000);
      const digests = async (readThread: boolean) => {
        const r = await replay({ from: path.join(dir, 'raw'), out: path.join(dir, `out-${readThread}`), speed: 'max', config: DEFAULT_CONFIG, readThread });
        return Object.fromEntries(Object.entries(r.manifest.tables).map(([t, v]) => [t, v.sha256]));
      };
      const inline = await digests(false);
      expect(Object.keys(inline).length).toBeGreaterThan(3);
      expect(await digests(true)).toEqual(inline);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file that cannot be read fails with the in-line reader\'s ArchiveError, not a thread crash', async () => {
    const dir = tmpDir('tapedeck-rt-');
    try {
      writeSession(dir, 7, 60_000, 2_000);
      const plan = await planArchive(dir);
      // Cut the last file after its head was planned: the reader meets it mid-stream.
      const files = [...plan.sessions.values()].flat().map((h) => h.file).sort();
      const victim = files.at(-1)!;
      fs.truncateSync(victim, Math.floor(fs.statSync(victim).size / 2));
      const failure = async (batches: AsyncIterable<LogEvent[]>): Promise<unknown> => collect(batches).then(() => undefined, (err: unknown) => err);
      const inline = await failure(readArchiveBatches(plan));
      const threaded = await failure(readArchiveThreaded(plan));
      expect(inline).toBeInstanceOf(ArchiveError);
      expect(threaded).toBeInstanceOf(ArchiveError);
      expect((threaded as Error).message).toBe((inline as Error).message);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a reader thread out of heap fails with one ArchiveError that says what to do, not a crash', async () => {
    const dir = tmpDir('tapedeck-rt-');
    try {
      writeSession(path.join(dir, 'raw'), 14, 600_000, 50_000);
      const plan = await planArchive(path.join(dir, 'raw'));
      // 8 MB: enough for the thread to start on every Node here (Node 26 cannot even start in 2 MB, and that
      // is a fatal error of the process, not one the thread reports), not enough to read this archive.
      const read = collect(readArchiveThreaded(plan, {}, { heapMb: 8 }));
      await expect(read).rejects.toThrow(ArchiveError);
      await expect(read).rejects.toThrow(/ran out of its 8 MB heap.*TAPEDECK_READ_THREAD=0/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a consumer that stops early releases every file the in-line read had open', async () => {
    const dir = tmpDir('tapedeck-rt-');
    const openFds = (): number => fs.readdirSync('/proc/self/fd').length;
    try {
      writeSession(path.join(dir, 'raw'), 13, 60_000, 500);
      const plan = await planArchive(path.join(dir, 'raw'));
      expect([...plan.sessions.values()][0]!.length).toBeGreaterThan(4);
      const before = openFds();
      let seen = 0;
      for await (const batch of readArchiveBatches(plan)) {
        seen += batch.length;
        // Both exchanges' files are open here: the session's merge interleaves them.
        if (seen > 1_000) break;
      }
      expect(seen).toBeGreaterThan(1_000);
      expect(openFds()).toBe(before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a consumer that stops early stops the thread (the read does not run on, the process can exit)', async () => {
    const dir = tmpDir('tapedeck-rt-');
    try {
      writeSession(dir, 9, 120_000, 5_000);
      const plan = await planArchive(dir);
      let seen = 0;
      for await (const b of readArchiveThreaded(plan)) {
        seen += b.length;
        break;
      }
      expect(seen).toBeGreaterThan(0);
      expect(seen).toBeLessThan(plan.rows);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
