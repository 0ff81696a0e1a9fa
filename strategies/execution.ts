/**
 * Simulated execution, shared by backtests and live paper trading. Orders fill only
 * against what the recording offered, and only on events logged after the decision:
 *
 * - An order is placed while the log is at event i and becomes active `latencyMs` of
 *   recorded time later; it can fill only on market events of later log events (no
 *   look-ahead, not even within the frame that prompted it).
 * - Market orders (and marketable limit orders) take the recorded best bid/offer: a buy at
 *   the ask, up to the size shown there (all of it when the feed shows no size); the rest
 *   waits for the next quotes. Taker fee.
 * - Resting limit orders fill when a recorded trade prints through them, at the limit
 *   price, up to that trade's size (partial fills). Maker fee.
 * - Cash flows and positions are kept per exchange, in the quote currency and the base
 *   asset, over one starting capital; positions may go short (an arbitrage sells where it
 *   holds nothing).
 */
import { defaultFees } from '../src/exchanges/registry.ts';
import type { Origin, Quote, Trade } from '../src/market/events.ts';
import { shown } from './shown.ts';
import type { AccountView, FillEvent, OrderRequest } from './types.ts';

export interface ExecutionConfig {
  /** Fees in basis points per exchange, and for exchanges not listed. */
  readonly takerFeeBps: Readonly<Record<string, number>>;
  readonly makerFeeBps: Readonly<Record<string, number>>;
  readonly defaultTakerBps: number;
  readonly defaultMakerBps: number;
  /** Recorded time from decision to the order being live at the exchange. */
  readonly latencyMs: number;
  /** Starting capital of the account (quote currency); per-exchange cash starts at 0 and moves with fills. */
  readonly initialCash: number;
}

export const DEFAULT_EXECUTION: ExecutionConfig = {
  // Each exchange's entry-tier fees, from its spec (src/exchanges/<x>/spec.ts).
  takerFeeBps: defaultFees('takerBps'),
  makerFeeBps: defaultFees('makerBps'),
  defaultTakerBps: 10,
  defaultMakerBps: 10,
  latencyMs: 50,
  initialCash: 100_000,
};

/**
 * What is wrong with `cfg` as an ExecutionConfig, in words, or undefined. The CLI builds one
 * from checked options, but verify takes it from a manifest, which may be hand-edited:
 * `execution: null` failed mid-run with "reading 'initialCash'", and an infinite latency
 * turned the strategy's first order into a "bad order".
 */
export function executionProblem(cfg: unknown): string | undefined {
  if (typeof cfg !== 'object' || cfg === null) return `execution settings ${shown(cfg)} are not an object`;
  const c = cfg as Record<string, unknown>;
  const amount = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  for (const k of ['takerFeeBps', 'makerFeeBps'] as const) {
    const fees = c[k];
    if (typeof fees !== 'object' || fees === null || !Object.values(fees).every(amount)) return `execution ${k} ${shown(fees)} is not { exchange: bps } with finite bps of 0 or more`;
  }
  for (const k of ['defaultTakerBps', 'defaultMakerBps'] as const) if (!amount(c[k])) return `execution ${k} ${shown(c[k])} is not a finite number of bps, 0 or more`;
  if (!amount(c.latencyMs)) return `execution latencyMs ${shown(c.latencyMs)} is not a finite duration in ms, 0 or more`;
  if (!(amount(c.initialCash) && (c.initialCash as number) > 0)) return `execution initialCash ${shown(c.initialCash)} is not a positive, finite amount`;
  return undefined;
}

export interface OrderRecord extends OrderRequest {
  readonly id: number;
  readonly placedAt: Origin;
  readonly placedNs: bigint;
  readonly activeNs: bigint;
}

export interface FillRecord extends FillEvent {
  readonly at: Origin;
  readonly recvNs: bigint;
}

interface Working {
  readonly order: OrderRecord;
  remaining: number;
}

const BPS = 10_000;
const EPS = 1e-12;

export class Execution implements AccountView {
  private nextId = 1;
  private working: Working[] = [];
  private readonly cashBy = new Map<string, number>();
  private readonly positions = new Map<string, number>();
  private readonly marks = new Map<string, number>();
  /** `exchange:symbol`, made once per market (not per event). */
  private readonly keys = new Map<string, Map<string, string>>();
  feesPaid = 0;

  constructor(private readonly cfg: ExecutionConfig) {}

  /**
   * An order, checked field by field: a strategy is user code, and a field of the wrong type
   * (`size: "5"`, `symbol: null`) passed here once and failed at the end of the run, writing
   * the outputs ("parquet expected number value, got 5"). Each field is read once.
   */
  place(req: OrderRequest, at: Origin, recvNs: bigint): OrderRecord {
    if (typeof req !== 'object' || req === null) throw new Error('an order must be an object { exchange, symbol, side, size, type }');
    const { exchange, symbol, side, size, type, price, tag } = req;
    if (typeof exchange !== 'string' || exchange === '') throw new Error(`order exchange must be a name: ${shown(exchange)}`);
    if (typeof symbol !== 'string' || symbol === '') throw new Error(`order symbol must be a name: ${shown(symbol)}`);
    if (side !== 'buy' && side !== 'sell') throw new Error(`order side must be buy or sell: ${shown(side)}`);
    if (type !== 'market' && type !== 'limit') throw new Error(`order type must be market or limit: ${shown(type)}`);
    if (!(typeof size === 'number' && size > 0 && size < Infinity)) throw new Error(`order size must be a positive, finite number: ${shown(size)}`);
    const priced = typeof price === 'number' && price > 0 && price < Infinity;
    if (type === 'limit' && !priced) throw new Error('a limit order needs a positive, finite price');
    // A market order may name no price (undefined or null); a price it names is a number.
    if (price !== undefined && price !== null && !priced) throw new Error(`order price must be a positive, finite number: ${shown(price)}`);
    if (tag !== undefined && tag !== null && typeof tag !== 'string') throw new Error(`order tag must be text: ${shown(tag)}`);
    const order: OrderRecord = {
      exchange, symbol, side, size, type, ...(typeof price === 'number' ? { price } : {}), ...(typeof tag === 'string' ? { tag } : {}),
      id: this.nextId++, placedAt: at, placedNs: recvNs, activeNs: recvNs + BigInt(Math.round(this.cfg.latencyMs * 1e6)),
    };
    this.working.push({ order, remaining: size });
    return order;
  }

  /** A recorded quote: market and marketable limit orders take it. */
  onQuote(q: Quote): readonly FillRecord[] {
    this.marks.set(this.key(q.exchange, q.symbol), (q.bid + q.ask) / 2);
    // Most events meet no working order: no arrays, no strings for them.
    if (this.working.length === 0) return NO_FILLS;
    const fills: FillRecord[] = [];
    let bidLeft = q.bidSize > 0 ? q.bidSize : Number.POSITIVE_INFINITY;
    let askLeft = q.askSize > 0 ? q.askSize : Number.POSITIVE_INFINITY;
    for (const w of this.live(q.exchange, q.symbol, q.at, q.recvNs)) {
      const o = w.order;
      const touch = o.side === 'buy' ? q.ask : q.bid;
      const marketable = o.type === 'market' || (o.side === 'buy' ? touch <= o.price! : touch >= o.price!);
      if (!marketable) continue;
      const offered = o.side === 'buy' ? askLeft : bidLeft;
      const size = Math.min(w.remaining, offered);
      if (size <= EPS) continue;
      if (o.side === 'buy') askLeft -= size;
      else bidLeft -= size;
      fills.push(this.fill(w, touch, size, 'taker', q.at, q.recvNs));
    }
    if (fills.length > 0) this.prune();
    return fills;
  }

  /** A recorded trade: resting limit orders it prints through fill at their price. */
  onTrade(t: Trade): readonly FillRecord[] {
    const k = this.key(t.exchange, t.symbol);
    if (!this.marks.has(k)) this.marks.set(k, t.price);
    if (this.working.length === 0) return NO_FILLS;
    const fills: FillRecord[] = [];
    let left = t.size;
    for (const w of this.live(t.exchange, t.symbol, t.at, t.recvNs)) {
      const o = w.order;
      if (o.type !== 'limit' || left <= EPS) continue;
      const through = o.side === 'buy' ? t.price <= o.price! : t.price >= o.price!;
      if (!through) continue;
      const size = Math.min(w.remaining, left);
      left -= size;
      fills.push(this.fill(w, o.price!, size, 'maker', t.at, t.recvNs));
    }
    if (fills.length > 0) this.prune();
    return fills;
  }

  /** Orders that may fill on this event: active, same market, placed at an earlier log event. */
  private live(exchange: string, symbol: string, at: Origin, recvNs: bigint): Working[] {
    return this.working.filter((w) => w.remaining > EPS && w.order.exchange === exchange && w.order.symbol === symbol
      && recvNs >= w.order.activeNs && !(w.order.placedAt.session === at.session && w.order.placedAt.ingestSeq === at.ingestSeq));
  }

  private fill(w: Working, price: number, size: number, liquidity: 'taker' | 'maker', at: Origin, recvNs: bigint): FillRecord {
    const o = w.order;
    const bps = liquidity === 'taker'
      ? this.cfg.takerFeeBps[o.exchange] ?? this.cfg.defaultTakerBps
      : this.cfg.makerFeeBps[o.exchange] ?? this.cfg.defaultMakerBps;
    const notional = price * size;
    const fee = (notional * bps) / BPS;
    w.remaining -= size;
    if (w.remaining < EPS) w.remaining = 0;
    this.feesPaid += fee;
    const sign = o.side === 'buy' ? 1 : -1;
    this.cashBy.set(o.exchange, this.cash(o.exchange) - sign * notional - fee);
    const k = this.key(o.exchange, o.symbol);
    this.positions.set(k, (this.positions.get(k) ?? 0) + sign * size);
    return { orderId: o.id, exchange: o.exchange, symbol: o.symbol, side: o.side, price, size, fee, liquidity, done: w.remaining === 0, at, recvNs };
  }

  private key(exchange: string, symbol: string): string {
    let bySymbol = this.keys.get(exchange);
    if (bySymbol === undefined) this.keys.set(exchange, (bySymbol = new Map()));
    let k = bySymbol.get(symbol);
    if (k === undefined) bySymbol.set(symbol, (k = `${exchange}:${symbol}`));
    return k;
  }

  private prune(): void {
    this.working = this.working.filter((w) => w.remaining > 0);
  }

  position(exchange: string, symbol: string): number {
    return this.positions.get(this.key(exchange, symbol)) ?? 0;
  }

  /** Net quote-currency flow on an exchange since the start (negative after buying). */
  cash(exchange: string): number {
    return this.cashBy.get(exchange) ?? 0;
  }

  openOrders(exchange: string, symbol: string): number {
    return this.working.filter((w) => w.order.exchange === exchange && w.order.symbol === symbol).length;
  }

  /** Mark-to-market: cash plus positions at the latest mid (or last trade), in sorted order. */
  valuation(): { equity: number; cash: number; positionValue: number; gross: number } {
    let cash = this.cfg.initialCash;
    for (const x of [...this.cashBy.keys()].sort()) cash += this.cashBy.get(x)!;
    let positionValue = 0;
    let gross = 0;
    for (const k of [...this.positions.keys()].sort()) {
      const v = this.positions.get(k)! * (this.marks.get(k) ?? 0);
      positionValue += v;
      gross += Math.abs(v);
    }
    return { equity: cash + positionValue, cash, positionValue, gross };
  }
}

const NO_FILLS: readonly FillRecord[] = Object.freeze([]);
