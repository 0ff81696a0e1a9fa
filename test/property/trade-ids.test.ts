/**
 * TradeIdTracker (src/exchanges/common.ts) against a plain model: the set of ids each gap
 * left missing. Whatever the order of ids (runs, jumps, repeats, late fills, heartbeat
 * advances), numbers or BigInts, below or above 2^53, its verdicts are the model's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TradeIdTracker, type Continuity } from '../../src/exchanges/common.ts';

class Model {
  private last: bigint | undefined;
  private readonly missing = new Set<bigint>();

  observe(id: bigint): Continuity {
    if (this.last !== undefined && id <= this.last) {
      if (!this.missing.delete(id)) return { kind: 'duplicate' };
      return { kind: 'fill', closed: this.missing.size === 0 };
    }
    return this.jump(id, id - 1n);
  }

  advance(id: bigint): Continuity {
    if (this.last !== undefined && id <= this.last) return { kind: 'next' };
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

/** A step: a trade id some way from the last one (forward runs most of the time), or a heartbeat's. */
const step = fc.record({
  delta: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 2, arbitrary: fc.integer({ min: 2, max: 12 }) }, { weight: 3, arbitrary: fc.integer({ min: -40, max: 0 }) }),
  heartbeat: fc.integer({ min: 0, max: 99 }).map((n) => n < 8),
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
      for (const s of steps) {
        id = (s.delta <= 0 ? top : id) + BigInt(s.delta);
        if (id > top) top = id;
        const asGiven = Number.isSafeInteger(Number(id)) && BigInt(Number(id)) === id ? Number(id) : id;
        const got = s.heartbeat ? t.advance('k', id) : t.observe('k', asGiven);
        const want = s.heartbeat ? m.advance(id) : m.observe(id);
        expect(got).toEqual(want);
      }
    }), { numRuns: 300 });
  });
});
