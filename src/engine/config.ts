/** The engine's options, with the defaults the CLI documents, and their parsers. */
import { defaultFees } from '../exchanges/registry.ts';

export interface ArbitrageConfig {
  /** Taker fee per exchange, in basis points. */
  readonly feesBps: Readonly<Record<string, number>>;
  /** Fee for an exchange not in `feesBps`. */
  readonly defaultFeeBps: number;
  /** Net edge (after both fees) an opportunity must clear, in basis points. */
  readonly minEdgeBps: number;
  /** A quote older than this (in recorded receive time) never counts. */
  readonly stalenessMs: number;
  /** Treat USD stablecoins (USDT, USDC, …) as USD when matching assets across venues. */
  readonly usdtAsUsd: boolean;
  /** Explicit `exchange:SYMBOL` → asset mapping, e.g. `binance:BTCUSDT` → `BTC/USD`. */
  readonly mapping: Readonly<Record<string, string>>;
}

export interface EngineConfig {
  /** Tumbling window lengths in ms, ascending. */
  readonly intervalsMs: readonly number[];
  /** How far behind the newest exchange time a window stays open, ms. */
  readonly latenessMs: number;
  /** Longest a symbol's windows wait for a gap's backfill (event time), ms. */
  readonly maxHoldMs: number;
  readonly smaPeriods: readonly number[];
  readonly emaPeriods: readonly number[];
  readonly rsiPeriod: number;
  readonly arbitrage: ArbitrageConfig;
}

export const DEFAULT_CONFIG: EngineConfig = {
  intervalsMs: [60_000, 300_000],
  latenessMs: 2_000,
  maxHoldMs: 60_000,
  smaPeriods: [20, 50],
  emaPeriods: [20, 50],
  rsiPeriod: 14,
  arbitrage: {
    // Entry-tier taker fees (Binance spot 0.10 %, Coinbase Exchange 0.60 %, …): each exchange's spec.
    feesBps: defaultFees('takerBps'),
    defaultFeeBps: 10,
    minEdgeBps: 1,
    stalenessMs: 1_000,
    usdtAsUsd: true,
    mapping: {},
  },
};

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1s`, `500ms`, `5m`, `1h` → ms. Throws a one-line message for anything else. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`bad duration ${JSON.stringify(text)} (use e.g. 500ms, 1s, 1m, 5m, 1h)`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Whether the engine makes windows of `ms`: whole ms, at least 1s, and dividing a day evenly (so each day's windows start at midnight UTC). */
export function isWindowMs(ms: number): boolean {
  return Number.isInteger(ms) && ms >= 1_000 && 86_400_000 % ms === 0;
}

/** Whether `n` is an SMA or EMA period: a whole number of candles, 1 or more. */
export function isPeriod(n: number): boolean {
  return Number.isInteger(n) && n >= 1;
}

/** Whether `n` is an RSI period: a whole number of candles, 2 or more, as `--rsi` takes. */
export function isRsiPeriod(n: number): boolean {
  return Number.isInteger(n) && n >= 2;
}

/** `1s,10s,1m,5m` → ascending unique window lengths in ms; each must divide a day. */
export function parseWindows(spec: string): number[] {
  const out = spec.split(',').filter((s) => s.trim() !== '').map((part) => {
    let ms;
    try {
      ms = parseDuration(part);
    } catch {
      throw new Error(`bad window ${JSON.stringify(part)} in ${JSON.stringify(spec)} (use e.g. 1s,10s,1m,5m)`);
    }
    // Echo the window as typed: intervalName(0) would say `0d`.
    if (!isWindowMs(ms)) {
      throw new Error(`bad window ${part.trim()} in ${JSON.stringify(spec)}: windows must be at least 1s and divide a day evenly`);
    }
    return ms;
  });
  if (out.length === 0) throw new Error(`bad window spec ${JSON.stringify(spec)} (use e.g. 1m,5m)`);
  return [...new Set(out)].sort((a, b) => a - b);
}

/** The canonical name of a window length: 60000 → `1m`. */
export function intervalName(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** `10,20` → [10, 20]; positive integers only. */
export function parsePeriods(spec: string, what: string): number[] {
  const out = spec.split(',').filter((s) => s.trim() !== '').map((s) => Number(s));
  if (out.some((n) => !isPeriod(n))) throw new Error(`bad ${what} periods ${JSON.stringify(spec)} (use e.g. 20,50)`);
  return [...new Set(out)].sort((a, b) => a - b);
}

/** { binance: 10, coinbase: 60 } → `binance=10,coinbase=60`: a default as `--fees` takes it. */
export function feesSpec(fees: Readonly<Record<string, number>>): string {
  return Object.entries(fees).map(([x, bps]) => `${x}=${bps}`).join(',');
}

/** `binance=10,coinbase=60` → { binance: 10, coinbase: 60 } (basis points). */
export function parseFees(spec: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of spec.split(',').filter((s) => s.trim() !== '')) {
    const [k, v] = part.split('=');
    const n = Number(v);
    if (!k || v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`bad fee ${JSON.stringify(part)} (use exchange=bps, e.g. binance=10)`);
    out[k.trim()] = n;
  }
  return out;
}

/** `binance:BTCUSDT=BTC/USD,coinbase:BTC-USD=BTC/USD` → mapping. */
export function parseMapping(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(',').filter((s) => s.trim() !== '')) {
    const m = /^([a-z]+):([^=]+)=(.+)$/.exec(part.trim());
    if (!m) throw new Error(`bad symbol mapping ${JSON.stringify(part)} (use exchange:SYMBOL=ASSET, e.g. binance:BTCUSDT=BTC/USD)`);
    out[`${m[1]}:${m[2]}`] = m[3]!;
  }
  return out;
}
