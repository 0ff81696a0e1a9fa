/** Flood mode's pure parts: `--rate` text and the mean gap it sets. */
import { describe, expect, it } from 'vitest';
import { meanGapForRate, parseRate } from '../../replayer/simulator/flood.ts';

describe('flood mode', () => {
  it('reads --rate as frames per second, with k and m', () => {
    expect(parseRate('150k')).toBe(150_000);
    expect(parseRate('1.5M')).toBe(1_500_000);
    expect(parseRate('20000')).toBe(20_000);
    for (const bad of ['', 'fast', '0', '-5k', '10x', '0.5']) expect(() => parseRate(bad), bad).toThrow(/bad --rate/);
  });

  it('sets the mean gap so that all markets together make the rate', () => {
    // 2 exchanges × 2 assets at 150k frames/s: each market one event every 4/150 ms.
    expect(meanGapForRate(150_000, 4)).toBeCloseTo(4_000 / 150_000, 12);
    expect(4 * (1_000 / meanGapForRate(150_000, 4))).toBeCloseTo(150_000, 6);
  });
});
