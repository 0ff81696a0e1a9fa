/**
 * The seeded synthetic market behind the simulator and the offline demo: one "true" price
 * per asset (a random walk), each exchange quoting around it with its own spread and
 * noise, trades at the touch with heavy-tailed sizes, and now and then a dislocation where
 * one venue's quotes drift away for a few seconds (an arbitrage opportunity).
 */
import type { Side } from '../market/events.ts';
import { simSpec } from '../exchanges/registry.ts';
import { fixedText, roundTo } from './fixed.ts';
import { Rng } from './random.ts';

export interface SimAsset {
  readonly base: string;
  readonly start: number;
  /** Volatility per sqrt(second), relative. */
  readonly vol: number;
  readonly tick: number;
  readonly typicalSize: number;
}

export const DEFAULT_ASSETS: readonly SimAsset[] = [
  { base: 'BTC', start: 60_000, vol: 0.0004, tick: 0.01, typicalSize: 0.02 },
  { base: 'ETH', start: 3_000, vol: 0.0005, tick: 0.01, typicalSize: 0.4 },
];

/** Native symbols of an asset on a venue (`BTCUSDT`, `BTC-USD`; an aggregator's one per market): its spec's `sim.symbol`. */
export function simSymbols(exchange: string, base: string): readonly string[] {
  return [simSpec(exchange).symbol(base)].flat();
}

export interface SimTrade {
  readonly kind: 'trade';
  readonly exchange: string;
  readonly symbol: string;
  readonly tradeId: number;
  readonly price: number;
  readonly size: number;
  readonly side: Side;
  readonly tsUs: number;
  /** A recorded trade's decimals exactly as the exchange printed them (the façade serves these, never a rounding). */
  readonly text?: { readonly price: string; readonly size: string };
}

/** A trade's price and size as the wire prints them: the recorded text, else the number at `decimals` (synthetic trades). */
export function tradeDecimals(t: SimTrade, priceDecimals: number, sizeDecimals = 8): { price: string; size: string } {
  return t.text ?? { price: fixedText(t.price, priceDecimals), size: fixedText(t.size, sizeDecimals) };
}

export interface SimQuote {
  readonly kind: 'quote';
  readonly exchange: string;
  readonly symbol: string;
  readonly bid: number;
  readonly bidSize: number;
  readonly ask: number;
  readonly askSize: number;
  readonly tsUs: number;
}

export type SimEvent = SimTrade | SimQuote;

export interface SimOptions {
  readonly seed: number;
  readonly startMs: number;
  readonly durationMs: number;
  readonly exchanges: readonly string[];
  readonly assets?: readonly SimAsset[];
  /** Mean ms between events per (exchange, asset). */
  readonly meanGapMs?: number;
  /** Chance per second that a dislocation starts on some venue. */
  readonly dislocationRate?: number;
}

interface Stream {
  readonly exchange: string;
  readonly asset: SimAsset;
  readonly symbol: string;
  nextUs: number;
  nextTradeId: number;
  /** Extra offset (relative) while a dislocation lasts, and until when. */
  skew: number;
  skewUntilUs: number;
}

const round = (x: number, tick: number): number => Math.round(x / tick) * tick;
const fix = roundTo;

/** Generates the market's events in exchange-time order. */
export function* simulateMarket(o: SimOptions): Generator<SimEvent> {
  const rng = new Rng(o.seed);
  const assets = o.assets ?? DEFAULT_ASSETS;
  const meanGapUs = (o.meanGapMs ?? 150) * 1000;
  const startUs = o.startMs * 1000;
  const endUs = (o.startMs + o.durationMs) * 1000;
  const truth = new Map(assets.map((a) => [a.base, { price: a.start, atUs: startUs }]));
  const streams: Stream[] = [];
  for (const exchange of o.exchanges) {
    for (const asset of assets) {
      for (const symbol of simSymbols(exchange, asset.base)) {
        streams.push({
          exchange, asset, symbol, nextUs: startUs + rng.int(0, meanGapUs), nextTradeId: 1_000_000 + rng.int(0, 1_000_000), skew: 0, skewUntilUs: 0,
        });
      }
    }
  }
  // Chance per event such that dislocations start at `dislocationRate` per second overall.
  const pDislocate = ((o.dislocationRate ?? 0.05) * (meanGapUs / 1e6)) / streams.length;
  for (;;) {
    let s = streams[0]!;
    for (const c of streams) if (c.nextUs < s.nextUs) s = c;
    const t = s.nextUs;
    if (t >= endUs) return;
    s.nextUs = t + 1 + Math.floor(-Math.log(1 - rng.next()) * meanGapUs);
    // Move the asset's true price to time t.
    const tr = truth.get(s.asset.base)!;
    const dt = (t - tr.atUs) / 1e6;
    if (dt > 0) {
      tr.price *= Math.exp(s.asset.vol * Math.sqrt(dt) * rng.normal());
      tr.atUs = t;
    }
    if (t >= s.skewUntilUs) s.skew = 0;
    if (rng.chance(pDislocate)) {
      s.skew = (rng.chance(0.5) ? 1 : -1) * rng.range(0.002, 0.006);
      s.skewUntilUs = t + rng.int(1_000_000, 6_000_000);
    }
    const tick = s.asset.tick;
    const mid = tr.price * (1 + s.skew + 0.00003 * rng.normal());
    const half = Math.max(tick, mid * rng.range(0.00001, 0.0001));
    const bid = fix(round(mid - half, tick), 2);
    const ask = fix(Math.max(bid + tick, round(mid + half, tick)), 2);
    if (rng.chance(0.35)) {
      const side: Side = rng.chance(0.5) ? 'buy' : 'sell';
      const size = fix(Math.max(1e-5, s.asset.typicalSize * Math.exp(1.2 * rng.normal())), 5);
      yield { kind: 'trade', exchange: s.exchange, symbol: s.symbol, tradeId: s.nextTradeId++, price: side === 'buy' ? ask : bid, size, side, tsUs: t };
    } else {
      const bidSize = fix(s.asset.typicalSize * rng.range(1, 50), 5);
      const askSize = fix(s.asset.typicalSize * rng.range(1, 50), 5);
      yield { kind: 'quote', exchange: s.exchange, symbol: s.symbol, bid, bidSize, ask, askSize, tsUs: t };
    }
  }
}
