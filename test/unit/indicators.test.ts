/**
 * SMA, EMA and RSI against the `trading-signals` package (the oracle), to 1e-9, on random
 * closes (fast-check) and on real closes: 1s candles of the real BTCUSDT recording.
 */
import fc from 'fast-check';
import { EMA, RSI, SMA } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { Ema, Rsi, Sma } from '../../src/engine/indicators.ts';
import { REAL, readLines, real } from '../helpers.ts';

type Ours = { update(x: number): number | null };
type Oracle = { update(x: number, replace: boolean): unknown; isStable: boolean; getResultOrThrow(): unknown };

function compare(closes: number[], ours: Ours, oracle: Oracle, label: string): number {
  let compared = 0;
  closes.forEach((c, i) => {
    const got = ours.update(c);
    oracle.update(c, false);
    if (!oracle.isStable) {
      expect(got, `${label}: not stable yet at close #${i}`).toBeNull();
      return;
    }
    const want = Number(oracle.getResultOrThrow());
    expect(got, `${label}: value at close #${i}`).not.toBeNull();
    expect(Math.abs(got! - want), `${label} at close #${i}: ours ${got}, trading-signals ${want}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
    compared++;
  });
  return compared;
}

const prices = fc.array(fc.double({ min: 1, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 300 });

describe('indicators agree with trading-signals', () => {
  it('on random closes (property)', () => {
    fc.assert(fc.property(prices, fc.integer({ min: 1, max: 40 }), (closes, period) => {
      compare(closes, new Sma(period), new SMA(period), `SMA(${period})`);
      compare(closes, new Ema(period), new EMA(period), `EMA(${period})`);
      // RSI(1) is meaningless and the oracle never emits it (it keeps only `period` prices).
      if (period >= 2) compare(closes, new Rsi(period), new RSI(period), `RSI(${period})`);
    }), { numRuns: 300 });
  });

  it('RSI stays within [0, 100] (property)', () => {
    fc.assert(fc.property(prices, fc.integer({ min: 1, max: 30 }), (closes, period) => {
      const rsi = new Rsi(period);
      for (const c of closes) {
        const v = rsi.update(c);
        if (v !== null) expect(v >= 0 && v <= 100, `RSI ${v}`).toBe(true);
      }
    }));
  });

  it.skipIf(!REAL)('on real closes: 1s candles of the BTCUSDT recording', () => {
    const closeBySecond = new Map<number, number>();
    for (const f of ['btcusdt_20240808.gz', 'btcusdt_20240809.gz']) {
      for (const line of readLines(real(`binance/hftbacktest/${f}`))) {
        if (!line.includes('@trade"')) continue;
        const d = (JSON.parse(line.slice(line.indexOf(' ') + 1)) as { data: { T: number; p: string } }).data;
        closeBySecond.set(Math.floor(d.T / 1000), Number(d.p));
      }
    }
    const closes = [...closeBySecond.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
    expect(closes.length).toBeGreaterThan(300);
    for (const p of [14, 20, 50]) {
      expect(compare(closes, new Sma(p), new SMA(p), `SMA(${p})`)).toBe(closes.length - p + 1);
      expect(compare(closes, new Ema(p), new EMA(p), `EMA(${p})`)).toBe(closes.length - p + 1);
      expect(compare(closes, new Rsi(p), new RSI(p), `RSI(${p})`)).toBe(closes.length - p);
    }
  });
});
