/**
 * A sweep's run folders: named so that a listing sorted by name is the runs' order, for grids
 * past a thousand runs too, and unchanged (`run-000` …) for grids of up to a thousand.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runFolder } from '../../replayer/backtest.ts';

describe('runFolder', () => {
  it('keeps three digits for grids of up to a thousand runs', () => {
    expect([runFolder(0, 1), runFolder(3, 4), runFolder(999, 1_000)]).toEqual(['run-000', 'run-003', 'run-999']);
  });

  it('pads to the largest index of a larger grid', () => {
    expect([runFolder(0, 1_001), runFolder(101, 1_001), runFolder(1_000, 1_001), runFolder(10_000, 10_001)]).toEqual(['run-0000', 'run-0101', 'run-1000', 'run-10000']);
  });

  it('sorts by name in run order, whatever the grid size', () => {
    fc.assert(fc.property(
      fc.integer({ min: 2, max: 2_000_000 }).chain((runs) => fc.tuple(fc.constant(runs), fc.integer({ min: 0, max: runs - 2 })).chain(([n, i]) => fc.tuple(fc.constant(n), fc.constant(i), fc.integer({ min: i + 1, max: n - 1 })))),
      ([runs, i, j]) => {
        const [a, b] = [runFolder(i, runs), runFolder(j, runs)];
        expect(a < b, `${a} (run ${i}) sorts before ${b} (run ${j}) in a grid of ${runs}`).toBe(true);
        expect(a.length, 'one width for every run of a grid').toBe(b.length);
        expect(Number(a.slice(4)), 'the name holds the run index').toBe(i);
      },
    ));
  });

  it('names every run of a 1,001-run grid in order (run-1000 last, not before run-101)', () => {
    const names = Array.from({ length: 1_001 }, (_, i) => runFolder(i, 1_001));
    expect([...names].sort()).toEqual(names);
  });
});
