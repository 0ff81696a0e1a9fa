/**
 * The simulator's fast paths give the built-ins' answers (property): `fixedText` is
 * `toFixed`, `roundTo` is `Number(toFixed)`, for any double, near-ties included, so the
 * seeded market and every frame printed from it are unchanged; `isoMicros`, which keeps the
 * last second's text, prints what `Date` prints; `textFrames` is read back by `ws`'s own
 * receiver as the same messages, around every length boundary of the framing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { isoMicros } from '../../src/log/time.ts';
import { fixedText, roundTo } from '../../src/sim/fixed.ts';
import { textFrames } from '../../src/sim/ws-frames.ts';

/** ws's own frame reader (lib/receiver.js): ws exports it, @types/ws does not declare it. */
interface FrameReader {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  write(chunk: Buffer, callback: (err?: Error | null) => void): void;
}
const { Receiver } = wsModule as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => FrameReader };

const digits = fc.integer({ min: 0, max: 10 });
/** Doubles near a tie at d decimals, and the market's own kind of number (k / 10^e). */
const nearTie = fc.tuple(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: -3, max: 3 }))
  .map(([k, d, nudge]) => {
    const x = (k + 0.5) / 10 ** d;
    // A few ulps either side of the tie.
    return { x: nudge === 0 ? x : x + nudge * Number.EPSILON * Math.max(1, Math.abs(x)), d };
  });
const marketLike = fc.tuple(fc.integer({ min: 0, max: 2e11 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 }))
  .map(([k, e, d]) => ({ x: k / 10 ** e, d }));
const anyDouble = fc.tuple(fc.double(), digits).map(([x, d]) => ({ x, d }));

describe('the simulator\'s exact fast paths (property)', () => {
  it('fixedText(x, d) is x.toFixed(d); roundTo(x, d) is Number(x.toFixed(d))', () => {
    fc.assert(fc.property(fc.oneof(anyDouble, nearTie, marketLike), ({ x, d }) => {
      expect(fixedText(x, d)).toBe(x.toFixed(d));
      expect(Object.is(roundTo(x, d), Number(x.toFixed(d))), `roundTo(${x}, ${d})`).toBe(true);
    }), { numRuns: 20_000 });
    for (const [x, d] of [[-0, 2], [-0.001, 2], [-0.006, 2], [0.125, 2], [1.005, 2], [60_000.125, 2], [2 ** 49 / 1e8, 8], [1e21, 2], [Infinity, 2], [Number.NaN, 3]] as const) {
      expect(fixedText(x, d), `${x}`).toBe(x.toFixed(d));
      expect(Object.is(roundTo(x, d), Number(x.toFixed(d))), `${x}`).toBe(true);
    }
  });

  it('isoMicros prints the µs time as Date does, in any order of calls', () => {
    const reference = (us: number): string => `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}Z`;
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 4_102_444_800_000_000 }), { minLength: 1, maxLength: 50 }), fc.integer({ min: 0, max: 3_000_000 }), (times, step) => {
      // Runs of nearby times (the cache's case) and jumps between them.
      for (const t of times) for (const us of [t, t + step, t + 2 * step, t]) expect(isoMicros(us)).toBe(reference(us));
    }));
  });

  it('textFrames is read by ws as the same text messages', async () => {
    const lengths = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000];
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.constantFrom(...lengths).map((n) => 'x'.repeat(n)),
      fc.constantFrom(...lengths).map((n) => 'é'.repeat(Math.ceil(n / 2))),
    );
    await fc.assert(fc.asyncProperty(fc.array(text, { maxLength: 20 }), fc.integer({ min: 1, max: 4_096 }), async (texts, chunk) => {
      const got: string[] = [];
      const receiver = new Receiver({ isServer: false, maxPayload: 0 });
      receiver.on('message', (data: Buffer, isBinary: boolean) => {
        expect(isBinary).toBe(false);
        got.push(data.toString('utf8'));
      });
      const bytes = textFrames(texts);
      // As a socket would hand them over: in arbitrary pieces (at most 200 of them).
      const piece = Math.max(chunk, Math.ceil(bytes.length / 200));
      for (let at = 0; at < bytes.length; at += piece) {
        await new Promise<void>((resolve, reject) => receiver.write(bytes.subarray(at, at + piece), (err) => (err ? reject(err) : resolve())));
      }
      expect(got).toEqual(texts.map((t) => Buffer.from(t, 'utf8').toString('utf8')));
    }), { numRuns: 60 });
  });
});
