/** Flood mode's pure parts: `--rate` text and the mean gap it sets. */
import { describe, expect, it } from 'vitest';
import { meanGapForRate, parseRate } from '../../replayer/simulator/flood.ts';
import { simulateMarket } from '../../src/sim/market.ts';

describe('flood mode', () => {
  it('reads --rate as frames per second, with k and m', () => {
    expect(parseRate('150k')).toBe(150_000);
    expect(parseRate('1.5M')).toBe(1_500_000);
    expect(parseRate('20000')).toBe(20_000);
    for (const bad of ['', 'fast', '0', '-5k', '10x', '0.5']) expect(() => parseRate(bad), bad).toThrow(/bad --rate/);
  });

  it('sets the mean gap so that the market, as it draws gaps, makes the rate', () => {
    // 2 exchanges × 2 assets: 4 markets. Count what the seeded market releases in 2 s of its time.
    for (const rate of [20_000, 150_000, 400_000]) {
      const startMs = 1_700_000_000_000;
      const market = simulateMarket({ seed: 7, startMs, durationMs: 2_000, exchanges: ['binance', 'coinbase'], meanGapMs: meanGapForRate(rate, 4) });
      let n = 0;
      for (const _ of market) n++;
      // A Poisson count of 2 × rate has a standard deviation of 0.5 % of it at 20k, 0.18 % at
      // 150k and 0.11 % at 400k: 1 % is 2, 5 and 9 of them (the seed is fixed). The uncorrected
      // gap falls 1.85 % short at 150k and 4.8 % at 400k.
      expect(Math.abs(n / 2 - rate) / rate, `rate ${rate}: ${n / 2}/s`).toBeLessThan(0.01);
    }
  });
});
