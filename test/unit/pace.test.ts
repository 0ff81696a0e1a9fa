/**
 * The pacer on the real clock: a wait never ends before its time, and a paced stream lets
 * each event through no earlier than its recorded offset from the first, divided by the
 * speed, in order, none dropped. (How late is the bench's to measure, not a test's.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { paceBatches, realClock, type PaceClock } from '../../replayer/pace.ts';

describe('the pacer on the real clock', () => {
  it('sleep(ms) never returns before ms have passed, across the timer and the short-block stretch', async () => {
    await fc.assert(fc.asyncProperty(fc.double({ min: 0, max: 5, noNaN: true }), async (ms) => {
      const t0 = performance.now();
      await realClock.sleep(ms);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(ms);
    }), { numRuns: 60 });
  });

  it('lets every event through in order, none before its time', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 120 }),
      fc.integer({ min: 1, max: 8 }),
      async (gapsUs, perBatch) => {
        // Recorded gaps of 0–3 ms at 1x (waits from none to past the timer's slack).
        let t = 1_700_000_000_000_000_000n;
        const events = gapsUs.map((g, i) => ({ i, recvNs: (t += BigInt(g) * 1_000n) }));
        async function* batches(): AsyncGenerator<{ i: number; recvNs: bigint }[]> {
          for (let k = 0; k < events.length; k += perBatch) yield events.slice(k, k + perBatch);
        }
        // The real clock, noting the pacer's first reading of it: the wall time its schedule starts from.
        let start: number | undefined;
        const clock: PaceClock = { nowMs: () => (start ??= realClock.nowMs(), realClock.nowMs()), sleep: realClock.sleep };
        const seen: { i: number; recvNs: bigint; at: number }[] = [];
        for await (const b of paceBatches(batches(), 1, clock)) for (const ev of b) seen.push({ ...ev, at: performance.now() });
        expect(seen.map((e) => e.i)).toEqual(events.map((e) => e.i));
        for (const e of seen) expect(e.at - start!).toBeGreaterThanOrEqual(Number(e.recvNs - events[0]!.recvNs) / 1e6);
      },
    ), { numRuns: 15 });
  });
});
