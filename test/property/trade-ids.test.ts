/**
 * TradeIdTracker (src/exchanges/common.ts) against a plain model: the set of ids each gap
 * left missing. Whatever the order of ids (runs, jumps, repeats, late fills, heartbeat
 * advances, a run of ids of its own starting lower at a later time), numbers or BigInts,
 * below or above 2^53, its verdicts are the model's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TradeIdTracker, type Continuity } from '../../src/exchanges/common.ts';

class Model {
  private last: bigint | undefined;
  /** The highest id's trade time; unknown after a heartbeat. */
  private lastTs = Infinity;
  private readonly missing = new Set<bigint>();

  observe(id: bigint, ts: number): Continuity {
    if (this.last !== undefined && id <= this.last) {
      if (ts > this.lastTs + 1_000_000) {
        this.last = id;
        this.lastTs = ts;
        this.missing.clear();
        return { kind: 'reset' };
      }
      if (!this.missing.delete(id)) return { kind: 'duplicate' };
      return { kind: 'fill', closed: this.missing.size === 0 };
    }
    this.lastTs = ts;
    return this.jump(id, id - 1n);
  }

  advance(id: bigint): Continuity {
    if (this.last !== undefined && id <= this.last) return { kind: 'next' };
    this.lastTs = Infinity;
    const first = this.last === undefined;
    const c = this.jump(id, id);
    return first ? { kind: 'next' } : c;
  }

  private jump(id: bigint, to: bigint): Continuity {
    const prev = this.last;
    this.last = id;
    if (prev === undefined || (to === id - 1n && id === prev + 1n)) return { kind: 'next' };
    if (to < prev + 1n) return { kind: 'next' };
    for (let x = prev + 1n; x <= to; x++) this.missing.add(x);
    return { kind: 'gap', fromId: prev + 1n, toId: to };
  }
}

/**
 * A step: a trade id some way from the last one (forward runs most of the time), or a
 * heartbeat's, or (`run`) the first trade of another run of ids: lower, and later by `gapUs`
 * (at most 1 s later is still taken for a repeat).
 */
const step = fc.record({
  delta: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 2, arbitrary: fc.integer({ min: 2, max: 12 }) }, { weight: 3, arbitrary: fc.integer({ min: -40, max: 0 }) }),
  heartbeat: fc.integer({ min: 0, max: 99 }).map((n) => n < 8),
  run: fc.integer({ min: 0, max: 99 }).map((n) => n < 4),
  gapUs: fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1_000_001, max: 5_000_000 })),
});

describe('TradeIdTracker', () => {
  it.each([
    ['small numbers', 1_000n],
    ['ids above 2^53, as BigInts', 2n ** 60n],
    ['ids that cross 2^53', 2n ** 53n - 30n],
  ])('gives the model\'s verdicts: %s', (_, base) => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 300 }), (steps) => {
      const t = new TradeIdTracker();
      const m = new Model();
      let id = base;
      let top = base;
      // Within a run of ids, a trade's time rises with its id (1 ms an id) from the run's start.
      let runBase = base;
      let runStartUs = 1.7e15;
      let latestUs = runStartUs;
      const timeOf = (x: bigint): number => runStartUs + Number(x - runBase) * 1_000;
      for (const s of steps) {
        let ts: number;
        if (s.run && !s.heartbeat) {
          id = top - 100n;
          runBase = id;
          runStartUs = latestUs + s.gapUs;
          top = id;
          ts = runStartUs;
        } else {
          id = (s.delta <= 0 ? top : id) + BigInt(s.delta);
          if (id > top) top = id;
          ts = timeOf(id);
        }
        if (ts > latestUs) latestUs = ts;
        const asGiven = Number.isSafeInteger(Number(id)) && BigInt(Number(id)) === id ? Number(id) : id;
        const got = s.heartbeat ? t.advance('k', id) : t.observe('k', asGiven, ts);
        const want = s.heartbeat ? m.advance(id) : m.observe(id, ts);
        expect(got).toEqual(want);
      }
    }), { numRuns: 300 });
  });

  it('takes the trades of a later session whose ids are lower for a run of their own, not for repeats', () => {
    const t = new TradeIdTracker();
    // A real session (ids near 3.7e9) at 23:54, then a simulated one (ids from 1) at 00:00.
    const real = 1_723_161_254_000_000;
    expect(t.observe('k', 3_700_000_000, real)).toEqual({ kind: 'next' });
    expect(t.observe('k', 3_700_000_001, real + 5)).toEqual({ kind: 'next' });
    expect(t.observe('k', 1, real + 360_000_000)).toEqual({ kind: 'reset' });
    expect(t.observe('k', 2, real + 360_000_100)).toEqual({ kind: 'next' });
    // Repeats of the new run are still repeats.
    expect(t.observe('k', 1, real + 360_000_000)).toEqual({ kind: 'duplicate' });
    expect(t.observe('k', 2, real + 360_000_100)).toEqual({ kind: 'duplicate' });
    // A repeat without a time (a sequence number) is never taken for a new run.
    expect(t.observe('k', 1)).toEqual({ kind: 'duplicate' });
  });
});
