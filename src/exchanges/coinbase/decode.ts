/**
 * Coinbase Exchange (`ws-feed`) adapter: a pure function of (LogEvent, CoinbaseState).
 *
 * - `match`/`last_match` are trades; their `side` is the MAKER side, so the taker side is
 *   the opposite (the ticker's `side`, the taker's, disagrees with it in 107/107 real pairs).
 * - `ticker` carries `best_bid`/`best_ask`: the best bid/offer.
 * - `sequence` jumps by design on the matches channel (it is the full-feed sequence), so
 *   gaps are found by `trade_id`, which is contiguous per product, and by heartbeat
 *   `last_trade_id` (protocols.md §2).
 */
import type { LogEvent } from '../../log/event.ts';
import { isoToNs } from '../../log/time.ts';
import { bump, newCounts, type DecodeCounts, type MarketEvent, type Side, type Trade } from '../../market/events.ts';
import {
  FrameError, SymbolClocks, emitQuote, TradeIdTracker, acceptTrade, checkPrice, checkQuoteSize, checkSize, exactId, gapEvent, guarded, isObject, num,
  origin, parseJson, parseObject, str, symbolOf,
} from '../common.ts';
import { amountAt, fastOrExact } from '../fast-path.ts';
import { Fields, NONE, NUM, STR } from '../scan.ts';
import { SymbolCache, intAt, isoUsAt, spanIs } from '../scan-values.ts';
import type { CoinbaseHeartbeat, CoinbaseMatch, CoinbaseTicker } from './payloads.ts';
import {
  BEST_ASK, BEST_ASK_SIZE, BEST_BID, BEST_BID_SIZE, LAST_TRADE_ID, PRICE, PRODUCT_ID, SIDE, SIZE, TIME, TRADE_ID, TYPE, scanCoinbase,
} from './scan.ts';

export interface CoinbaseState {
  readonly ids: TradeIdTracker;
  readonly counts: DecodeCounts;
  /** Each product's exchange−receive clock offset (common.ts, the limits table). */
  readonly clocks: SymbolClocks;
  /** The fast path's product strings. */
  readonly symbols: SymbolCache;
}

const productId = (s: string): string => symbolOf(s, 'product_id');

export function newCoinbaseState(): CoinbaseState {
  return { ids: new TradeIdTracker(), counts: newCounts(), clocks: new SymbolClocks(), symbols: new SymbolCache(productId) };
}

const RECOGNISED = new Set(['l2update', 'snapshot', 'status', 'received', 'open', 'done', 'change', 'activate']);

/** The adapter: the fast path, falling back to the JSON.parse reading (fast-path.ts). */
export const decodeCoinbase: (ev: LogEvent, state: CoinbaseState) => MarketEvent[] = fastOrExact(scanCoinbase, fastMessage, decodeCoinbaseParsed);

/** The JSON.parse reading: the oracle that the fast path must equal, and its fallback. */
export function decodeCoinbaseParsed(ev: LogEvent, state: CoinbaseState): MarketEvent[] {
  if (ev.kind === 'rest') return decodeRest(ev, state);
  if (ev.kind !== 'frame') return [];
  return guarded(ev, () => {
    const msg = parseObject(ev.payload);
    const type = msg.type;
    switch (type) {
      case 'match':
      case 'last_match':
      {
        const m = readMatch(msg as unknown as CoinbaseMatch, ev.payload);
        return emitMatch(ev, state, m.symbol, m.tradeId, safeId(m.tradeId), m.price, m.size, m.makerSide, m.tsUs);
      }
      case 'ticker':
        return ticker(ev, msg as unknown as CoinbaseTicker, state);
      case 'heartbeat':
        return heartbeat(ev, msg as unknown as CoinbaseHeartbeat, state);
      case 'subscriptions':
        return [subscribed(ev)];
      case 'error':
        return [{ type: 'status', status: 'error', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail: `${String(msg.message)}: ${String(msg.reason ?? '')}` }];
      default:
        if (typeof type === 'string' && RECOGNISED.has(type)) bump(state.counts.recognised, type);
        else bump(state.counts.unknown, typeof type === 'string' ? type : 'no-type');
        return [];
    }
  });
}

function subscribed(ev: LogEvent): MarketEvent {
  return { type: 'status', status: 'subscribed', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail: ev.payload };
}

const safeId = (id: bigint): number | bigint => (id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id);

function timeUs(v: unknown): number {
  try {
    return Number(isoToNs(str(v, 'time')) / 1000n);
  } catch {
    throw new FrameError(`field time is not an ISO time: ${JSON.stringify(v)}`);
  }
}

interface MatchFields { symbol: string; tradeId: bigint; price: number; size: number; makerSide: Side; tsUs: number }

/** A match's (feed or REST row) fields, each checked on its own. */
function readMatch(m: CoinbaseMatch, payload: string): MatchFields {
  const symbol = symbolOf(m.product_id, 'product_id');
  if (m.side !== 'buy' && m.side !== 'sell') throw new FrameError(`field side is not buy/sell: ${JSON.stringify(m.side)}`);
  return {
    symbol, makerSide: m.side, tradeId: exactId(m.trade_id, payload, 'trade_id'),
    price: checkPrice(num(m.price, 'price'), 'price'), size: checkSize(num(m.size, 'size'), 'size'), tsUs: timeUs(m.time),
  };
}

function matchTrade(ev: LogEvent, m: MatchFields): Trade {
  return {
    type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol: m.symbol, tradeId: m.tradeId, price: m.price, size: m.size,
    // `side` is the maker's order side: a resting sell was hit by a taker BUY.
    side: m.makerSide === 'sell' ? 'buy' : 'sell',
    tsUs: m.tsUs,
  };
}

/** A feed match whose fields passed their own checks: the clock check, then continuity. */
function emitMatch(
  ev: LogEvent, state: CoinbaseState, symbol: string, tradeId: bigint, id: number | bigint, price: number, size: number, makerSide: Side, tsUs: number,
): MarketEvent[] {
  state.clocks.observe(symbol, ev.recvNs, tsUs, 'time');
  return acceptTrade(ev, state.ids, symbol, matchTrade(ev, { symbol, tradeId, price, size, makerSide, tsUs }), state.counts, id);
}

function ticker(ev: LogEvent, t: CoinbaseTicker, state: CoinbaseState): MarketEvent[] {
  if (t.best_bid === undefined || t.best_ask === undefined) {
    throw new FrameError('ticker without best_bid/best_ask');
  }
  const symbol = symbolOf(t.product_id, 'product_id');
  const bid = checkPrice(num(t.best_bid, 'best_bid'), 'best_bid');
  const ask = checkPrice(num(t.best_ask, 'best_ask'), 'best_ask');
  // Sizes appeared in the ticker in 2022 (`best_bid_size`); older feeds lack them.
  const bidSize = t.best_bid_size === undefined ? 0 : checkQuoteSize(num(t.best_bid_size, 'best_bid_size'), 'best_bid_size');
  const askSize = t.best_ask_size === undefined ? 0 : checkQuoteSize(num(t.best_ask_size, 'best_ask_size'), 'best_ask_size');
  const tsUs = t.time === undefined ? undefined : timeUs(t.time);
  return emitQuote(ev, state.clocks, 'time', symbol, bid, bidSize, ask, askSize, tsUs);
}


function heartbeat(ev: LogEvent, h: CoinbaseHeartbeat, state: CoinbaseState): MarketEvent[] {
  const symbol = symbolOf(h.product_id, 'product_id');
  return emitHeartbeat(ev, state, symbol, exactId(h.last_trade_id, ev.payload, 'last_trade_id'));
}

function emitHeartbeat(ev: LogEvent, state: CoinbaseState, symbol: string, last: bigint): MarketEvent[] {
  const out: MarketEvent[] = [{ type: 'status', status: 'heartbeat', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail: symbol }];
  // An old client bug report says last_trade_id can be 0 (protocols.md §2): no information.
  if (last > 0n) {
    const c = state.ids.advance(symbol, last);
    if (c.kind === 'gap') out.push(gapEvent(ev, symbol, c, 'heartbeat'));
  }
  return out;
}

// ---- The fast path: the same routes over scanned fields; undefined = ask the oracle. ----

function fastMessage(ev: LogEvent, f: Fields, state: CoinbaseState): MarketEvent[] | undefined {
  const text = ev.payload;
  if (f.kind[TYPE] !== STR) return undefined;
  const s = f.start[TYPE]!;
  const e = f.end[TYPE]!;
  if (spanIs(text, s, e, 'l2update')) {
    bump(state.counts.recognised, 'l2update');
    return [];
  }
  try {
    if (spanIs(text, s, e, 'match') || spanIs(text, s, e, 'last_match')) return fastMatch(ev, f, state);
    if (spanIs(text, s, e, 'ticker')) return fastTicker(ev, f, state);
    if (spanIs(text, s, e, 'heartbeat')) return fastHeartbeat(ev, f, state);
  } catch (err) {
    if (err instanceof FrameError) return undefined;
    throw err;
  }
  if (spanIs(text, s, e, 'subscriptions')) return [subscribed(ev)];
  if (spanIs(text, s, e, 'error')) return undefined;
  const type = text.slice(s, e);
  bump(RECOGNISED.has(type) ? state.counts.recognised : state.counts.unknown, type);
  return [];
}

function fastMatch(ev: LogEvent, f: Fields, state: CoinbaseState): MarketEvent[] | undefined {
  const text = ev.payload;
  const { kind: k, start: st, end: en } = f;
  if (k[PRODUCT_ID] !== STR || k[SIDE] !== STR || k[TRADE_ID] !== NUM || k[PRICE] !== STR || k[SIZE] !== STR || k[TIME] !== STR) return undefined;
  const makerSide = spanIs(text, st[SIDE]!, en[SIDE]!, 'sell') ? 'sell' : spanIs(text, st[SIDE]!, en[SIDE]!, 'buy') ? 'buy' : undefined;
  const id = intAt(text, st[TRADE_ID]!, en[TRADE_ID]!);
  if (makerSide === undefined || id < 0) return undefined;
  const symbol = state.symbols.at(text, st[PRODUCT_ID]!, en[PRODUCT_ID]!);
  const price = checkPrice(amountAt(text, st[PRICE]!, en[PRICE]!, 'price'), 'price');
  const size = checkSize(amountAt(text, st[SIZE]!, en[SIZE]!, 'size'), 'size');
  const tsUs = isoAt(text, st[TIME]!, en[TIME]!);
  return emitMatch(ev, state, symbol, BigInt(id), id, price, size, makerSide, tsUs);
}

function fastTicker(ev: LogEvent, f: Fields, state: CoinbaseState): MarketEvent[] | undefined {
  const text = ev.payload;
  const { kind: k, start: st, end: en } = f;
  if (k[BEST_BID] !== STR || k[BEST_ASK] !== STR || k[PRODUCT_ID] !== STR) return undefined;
  const kb = k[BEST_BID_SIZE];
  const ka = k[BEST_ASK_SIZE];
  const kt = k[TIME];
  if ((kb !== NONE && kb !== STR) || (ka !== NONE && ka !== STR) || (kt !== NONE && kt !== STR)) return undefined;
  const symbol = state.symbols.at(text, st[PRODUCT_ID]!, en[PRODUCT_ID]!);
  const bid = checkPrice(amountAt(text, st[BEST_BID]!, en[BEST_BID]!, 'best_bid'), 'best_bid');
  const ask = checkPrice(amountAt(text, st[BEST_ASK]!, en[BEST_ASK]!, 'best_ask'), 'best_ask');
  const bidSize = kb === NONE ? 0 : checkQuoteSize(amountAt(text, st[BEST_BID_SIZE]!, en[BEST_BID_SIZE]!, 'best_bid_size'), 'best_bid_size');
  const askSize = ka === NONE ? 0 : checkQuoteSize(amountAt(text, st[BEST_ASK_SIZE]!, en[BEST_ASK_SIZE]!, 'best_ask_size'), 'best_ask_size');
  const tsUs = kt === NONE ? undefined : isoAt(text, st[TIME]!, en[TIME]!);
  return emitQuote(ev, state.clocks, 'time', symbol, bid, bidSize, ask, askSize, tsUs);
}

function fastHeartbeat(ev: LogEvent, f: Fields, state: CoinbaseState): MarketEvent[] | undefined {
  const text = ev.payload;
  const { kind: k, start: st, end: en } = f;
  if (k[PRODUCT_ID] !== STR || k[LAST_TRADE_ID] !== NUM) return undefined;
  const last = intAt(text, st[LAST_TRADE_ID]!, en[LAST_TRADE_ID]!);
  if (last < 0) return undefined;
  return emitHeartbeat(ev, state, state.symbols.at(text, st[PRODUCT_ID]!, en[PRODUCT_ID]!), BigInt(last));
}


/** A `time` string's µs as `timeUs` reads it: the quick way for a plain UTC time. */
function isoAt(text: string, start: number, end: number): number {
  const v = isoUsAt(text, start, end);
  return v >= 0 ? v : timeUs(text.slice(start, end));
}

/**
 * Trade backfill: `GET /products/{id}/trades?after=…` returns the product's trades newest
 * first, `side` being the maker side as on the feed (protocols.md §2). Rows are taken in id
 * order so the continuity check sees them as the exchange made them.
 */
function decodeRest(ev: LogEvent, state: CoinbaseState): MarketEvent[] {
  const m = /\/products\/([^/?]+)\/trades/.exec(ev.meta);
  if (!m) {
    bump(state.counts.recognised, 'rest:other');
    return [];
  }
  return guarded(ev, () => {
    let symbol: string;
    try {
      symbol = decodeURIComponent(m[1]!);
    } catch {
      throw new FrameError(`backfill URL with a malformed product id: ${JSON.stringify(m[1])}`);
    }
    const rows = parseJson(ev.payload);
    if (!Array.isArray(rows)) throw new FrameError('trades body is not an array');
    const trades = rows.map((r) => {
      if (!isObject(r)) throw new FrameError('trades row is not an object');
      const fields = readMatch({ ...(r as unknown as CoinbaseMatch), type: 'match', product_id: symbol }, ev.payload);
      // A backfilled trade is old by nature: it may lag the clock without limit, not lead it.
      state.clocks.check(fields.symbol, ev.recvNs, fields.tsUs, 'time', true);
      return matchTrade(ev, fields);
    });
    trades.sort((a, b) => (a.tradeId < b.tradeId ? -1 : a.tradeId > b.tradeId ? 1 : 0));
    return trades.flatMap((t) => acceptTrade(ev, state.ids, symbol, t, state.counts));
  });
}
