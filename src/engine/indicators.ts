/**
 * Streaming indicators on closed-candle closes, each `update(close) → value | null` with
 * O(period) state. Conventions follow the `trading-signals` package (the test oracle):
 * SMA is the plain mean of the last `period` closes; EMA is seeded with the first close
 * and reported from the `period`-th close on; RSI uses Wilder smoothing seeded with the
 * mean of the first `period` changes, and is 100 when there are no losses.
 */

/** Simple moving average over the last `period` values. */
export class Sma {
  private readonly window: number[] = [];
  constructor(readonly period: number) {}

  update(x: number): number | null {
    this.window.push(x);
    if (this.window.length > this.period) this.window.shift();
    if (this.window.length < this.period) return null;
    // Summed afresh each time, in window order: no drift, and the same bits every run.
    let sum = 0;
    for (const v of this.window) sum += v;
    return sum / this.period;
  }
}

/** Exponential moving average, k = 2 / (period + 1), seeded with the first value. */
export class Ema {
  private value: number | undefined;
  private count = 0;
  private readonly k: number;
  constructor(readonly period: number) {
    this.k = 2 / (period + 1);
  }

  update(x: number): number | null {
    this.value = x * this.k + (this.value ?? x) * (1 - this.k);
    this.count++;
    return this.count >= this.period ? this.value : null;
  }
}

/** Wilder's smoothed moving average: the SMA of the first `period` values, then v += (x − v)/period. */
class Wilder {
  private readonly seed: Sma;
  private value: number | undefined;
  constructor(readonly period: number) {
    this.seed = new Sma(period);
  }

  update(x: number): number | null {
    if (this.value !== undefined) {
      this.value = (x - this.value) * (1 / this.period) + this.value;
      return this.value;
    }
    const s = this.seed.update(x);
    if (s !== null) this.value = s;
    return s;
  }
}

/** Relative Strength Index with Wilder smoothing; always within [0, 100]. */
export class Rsi {
  private prev: number | undefined;
  private readonly gain: Wilder;
  private readonly loss: Wilder;
  constructor(readonly period: number) {
    this.gain = new Wilder(period);
    this.loss = new Wilder(period);
  }

  update(x: number): number | null {
    const prev = this.prev;
    this.prev = x;
    if (prev === undefined) return null;
    const up = x > prev ? x - prev : 0;
    const down = x > prev ? 0 : prev - x;
    const g = this.gain.update(up);
    const l = this.loss.update(down);
    if (g === null || l === null) return null;
    if (l === 0) return 100;
    return 100 - 100 / (g / l + 1);
  }
}

/** The configured indicator set for one (exchange, symbol, interval) series. */
export class IndicatorSet {
  private readonly series: { name: string; ind: { update(x: number): number | null } }[];

  constructor(sma: readonly number[], ema: readonly number[], rsi: number) {
    this.series = [
      ...sma.map((p) => ({ name: `sma_${p}`, ind: new Sma(p) })),
      ...ema.map((p) => ({ name: `ema_${p}`, ind: new Ema(p) })),
      { name: `rsi_${rsi}`, ind: new Rsi(rsi) },
    ];
  }

  static columns(sma: readonly number[], ema: readonly number[], rsi: number): string[] {
    return [...sma.map((p) => `sma_${p}`), ...ema.map((p) => `ema_${p}`), `rsi_${rsi}`];
  }

  update(close: number): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const s of this.series) out[s.name] = s.ind.update(close);
    return out;
  }
}
