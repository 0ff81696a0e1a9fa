/**
 * Normalized market events: what the exchange adapters make of a frame.
 *
 * Field semantics (the same for every exchange):
 * - `side` is the TAKER (aggressor) side. Binance `m` is "buyer is maker"; Coinbase
 *   `match.side` is the maker side; both are turned around here.
 * - `tsUs` is exchange time in integer microseconds since the Unix epoch.
 * - `recvNs` is the local receive time of the frame, integer nanoseconds.
 * - `at` is the LogEvent the market event came from, so every output can be traced back.
 */
export type Side = 'buy' | 'sell';

export interface Origin {
  readonly session: string;
  readonly ingestSeq: number;
}

interface Base {
  readonly exchange: string;
  readonly recvNs: bigint;
  readonly at: Origin;
}

export interface Trade extends Base {
  readonly type: 'trade';
  readonly symbol: string;
  /** Per-symbol trade id (Binance `t` or aggTrade `a`, Coinbase `trade_id`). Exact. */
  readonly tradeId: bigint;
  readonly price: number;
  readonly size: number;
  readonly side: Side;
  readonly tsUs: number;
}

/** Best bid/offer. `tsUs` is absent where the exchange sends no time (Binance bookTicker). */
export interface Quote extends Base {
  readonly type: 'quote';
  readonly symbol: string;
  readonly bid: number;
  readonly bidSize: number;
  readonly ask: number;
  readonly askSize: number;
  readonly tsUs: number | undefined;
}

/** A break in per-symbol trade-id continuity: ids `fromId..toId` (inclusive) were not seen. */
export interface Gap extends Base {
  readonly type: 'gap';
  readonly symbol: string;
  readonly fromId: bigint;
  readonly toId: bigint;
  /** What revealed it: `trade` (the next id jumped) or `heartbeat` (last_trade_id ran ahead). */
  readonly reason: string;
}

/** Every id a gap left missing has now arrived (backfill or late frames). */
export interface GapFilled extends Base {
  readonly type: 'gap_filled';
  readonly symbol: string;
}

/** Control traffic: subscription acks, errors, shutdown notices, heartbeats. */
export interface Status extends Base {
  readonly type: 'status';
  /** `system`: the exchange's word on itself (online, maintenance, …). */
  readonly status: 'subscribed' | 'error' | 'shutdown' | 'heartbeat' | 'system';
  readonly detail: string;
}

/** A frame the adapter could not read. The run goes on; the error is an output row. */
export interface DecodeError extends Base {
  readonly type: 'decode_error';
  readonly reason: string;
  /** The offending frame's text. */
  readonly payload: string;
}

export type MarketEvent = Trade | Quote | Gap | GapFilled | Status | DecodeError;

/** Counters an adapter keeps of what it saw but turns into no market event. */
export interface DecodeCounts {
  /** Recognised channels that the engine does not use yet (depthUpdate, kline, l2update…). */
  readonly recognised: Record<string, number>;
  /** Message shapes the adapter does not know. */
  readonly unknown: Record<string, number>;
  /** Trades whose id was already seen (reconnect overlap, backfill overlap). */
  duplicates: number;
  /**
   * Times a symbol's trade ids started again lower, at a later time (two sessions whose ids do
   * not continue each other): those trades are taken, not dropped as repeats (TradeIdTracker).
   */
  idRuns: number;
  /** Frames that could not be read (each is also a decode_errors row). */
  errors: number;
}

/**
 * Fresh counters. The two maps are keyed by exchange data (a Binance `e`, a Coinbase
 * `type`), so they inherit nothing: a message type `toString` or `__proto__` is a key like
 * any other (issue 10, item 5). They stay plain JSON for manifest.json, same shape and order.
 */
export function newCounts(): DecodeCounts {
  return { recognised: Object.create(null) as Record<string, number>, unknown: Object.create(null) as Record<string, number>, duplicates: 0, idRuns: 0, errors: 0 };
}

/** Adds one to `counter[key]` (own keys only, so an inherited `toString` never counts). */
export function bump(counter: Record<string, number>, key: string): void {
  counter[key] = (Object.hasOwn(counter, key) ? counter[key]! : 0) + 1;
}
