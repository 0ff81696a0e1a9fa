/**
 * Binance spot adapter: a pure function of (LogEvent, BinanceState) → MarketEvent[].
 *
 * Frames are routed by shape (protocols.md §1): `result`/`code` → ack or error, `stream`
 * → combined-stream wrapper, `e` → raw stream payload, and the spot bookTicker, which has
 * no `e` at all. Trade ids (`t`, aggTrade `a`) are contiguous per symbol, so a jump is a gap.
 *
 * Two readings of a frame give the same events: the fast one scans the text for the few
 * fields a route needs (scan.ts); the exact one, `decodeBinanceParsed`, JSON-parses the frame
 * and is the oracle. The fast one hands anything unusual to the exact one, including every
 * frame that is refused, so a decode_error always comes from the oracle.
 */
import type { LogEvent } from '../../log/event.ts';
import { bump, newCounts, type DecodeCounts, type MarketEvent, type Trade } from '../../market/events.ts';
import {
  FrameError, SymbolClocks, emitQuote, TradeIdTracker, acceptTrade, checkPrice, checkQuoteSize, checkSize, exactId, guarded, isObject, num,
  origin, parseJson, parseObject, symbolOf, urlParam,
} from '../common.ts';
import { amountAt, fastOrExact } from '../fast-path.ts';
import { FALSE, Fields, NONE, NUM, STR, TRUE } from '../scan.ts';
import { SymbolCache, intAt } from '../scan-values.ts';
import type { CensusRoutes } from './census.ts';
import type { BinanceAggTrade, BinanceBookTicker, BinanceHistoricalTrade, BinanceTrade } from './payloads.ts';
import { A, A_QTY, B, B_QTY, E, M, P, Q, S, T_ID, T_TIME, U, scanBinance } from './scan.ts';

export type TradeStream = 'trade' | 'aggTrade';

export interface BinanceState {
  readonly ids: TradeIdTracker;
  readonly counts: DecodeCounts;
  /**
   * Which trade stream feeds a symbol's candles: the first one seen (`trade` or `aggTrade`),
   * with its continuity key. Their id spaces differ and both carry the same fills, so using
   * both would count twice.
   */
  readonly tradeSource: Map<string, { readonly stream: TradeStream; readonly key: string }>;
  /** Each symbol's exchange−receive clock offset (common.ts, the limits table). */
  readonly clocks: SymbolClocks;
  /** The fast path's symbol strings. */
  readonly symbols: SymbolCache;
  /** Set for the import's census only: the routes of market data are counted, not decoded. */
  readonly census: CensusRoutes | undefined;
}

const symbolS = (s: string): string => symbolOf(s, 's');

export function newBinanceState(census?: CensusRoutes): BinanceState {
  return { ids: new TradeIdTracker(), counts: newCounts(), tradeSource: new Map(), clocks: new SymbolClocks(), symbols: new SymbolCache(symbolS), census };
}

/** Streams and events recognised but not turned into market events (yet). */
const RECOGNISED = new Set(['depthUpdate', 'kline', '24hrTicker', '24hrMiniTicker', 'avgPrice', 'outboundAccountPosition']);

/** The adapter: the fast path, falling back to the JSON.parse reading (fast-path.ts). */
export const decodeBinance: (ev: LogEvent, state: BinanceState) => MarketEvent[] = fastOrExact(scanBinance, fastPayload, decodeBinanceParsed);

/** The JSON.parse reading: the oracle that the fast path must equal, and its fallback. */
export function decodeBinanceParsed(ev: LogEvent, state: BinanceState): MarketEvent[] {
  if (ev.kind === 'rest') return decodeRest(ev, state);
  if (ev.kind !== 'frame') return [];
  return guarded(ev, () => {
    const msg = parseObject(ev.payload);
    if ('result' in msg && 'id' in msg) {
      return [{ type: 'status', status: 'subscribed', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail: ev.payload }];
    }
    if ('code' in msg && 'msg' in msg) {
      return [{ type: 'status', status: 'error', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail: String(msg.msg) }];
    }
    const data = 'stream' in msg && 'data' in msg ? msg.data : msg;
    if (!isObject(data)) throw new FrameError('stream data is not a JSON object');
    return decodePayload(ev, data, state);
  });
}

function decodePayload(ev: LogEvent, d: Record<string, unknown>, state: BinanceState): MarketEvent[] {
  const e = d.e;
  if (e === 'trade') return state.census?.skip('trade') ?? trade(ev, d as unknown as BinanceTrade, 'trade', state);
  if (e === 'aggTrade') return state.census?.skip('aggTrade') ?? trade(ev, d as unknown as BinanceAggTrade, 'aggTrade', state);
  // Spot bookTicker has no `e`; futures' has e:"bookTicker" and a time `T`.
  if (e === 'bookTicker' || (e === undefined && 'u' in d && 'b' in d && 'a' in d && 'B' in d && 'A' in d)) {
    return state.census?.skip() ?? quote(ev, d as unknown as BinanceBookTicker, state);
  }
  if (e === 'serverShutdown') return [shutdown(ev)];
  if (typeof e === 'string' && RECOGNISED.has(e)) {
    bump(state.counts.recognised, e);
    return [];
  }
  bump(state.counts.unknown, typeof e === 'string' ? e : 'no-e');
  return [];
}

function shutdown(ev: LogEvent): MarketEvent {
  return { type: 'status', status: 'shutdown', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail: ev.payload };
}

function trade(ev: LogEvent, d: BinanceTrade | BinanceAggTrade, stream: TradeStream, state: BinanceState): MarketEvent[] {
  const symbol = symbolOf(d.s, 's');
  const idField = stream === 'trade' ? 't' : 'a';
  const tradeId = exactId((d as unknown as Record<string, unknown>)[idField], ev.payload, idField);
  const price = checkPrice(num(d.p, 'p'), 'p');
  const size = checkSize(num(d.q, 'q'), 'q');
  const tsUs = timeUs(d.T, 'T');
  if (typeof d.m !== 'boolean') throw new FrameError('field m is not a boolean');
  const id = tradeId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(tradeId) : tradeId;
  return emitTrade(ev, state, stream, symbol, tradeId, id, price, size, tsUs, d.m);
}

/** A trade whose fields passed their own checks: the clock check, then the trade source and continuity. */
function emitTrade(
  ev: LogEvent, state: BinanceState, stream: TradeStream, symbol: string, tradeId: bigint, id: number | bigint,
  price: number, size: number, tsUs: number, buyerIsMaker: boolean,
): MarketEvent[] {
  state.clocks.observe(symbol, ev.recvNs, tsUs, 'T');
  let source = state.tradeSource.get(symbol);
  if (source === undefined) state.tradeSource.set(symbol, (source = { stream, key: `${symbol}@${stream}` }));
  else if (source.stream !== stream) {
    bump(state.counts.recognised, `${stream} (second trade stream for ${symbol})`);
    return [];
  }
  const t: Trade = {
    type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol, tradeId, price, size,
    // `m` is "buyer is maker": then the taker sold.
    side: buyerIsMaker ? 'sell' : 'buy',
    tsUs,
  };
  return acceptTrade(ev, state.ids, source.key, t, state.counts, id);
}

function quote(ev: LogEvent, d: BinanceBookTicker, state: BinanceState): MarketEvent[] {
  const symbol = symbolOf(d.s, 's');
  const bid = checkPrice(num(d.b, 'b'), 'b');
  const bidSize = checkQuoteSize(num(d.B, 'B'), 'B');
  const ask = checkPrice(num(d.a, 'a'), 'a');
  const askSize = checkQuoteSize(num(d.A, 'A'), 'A');
  const tsUs = d.T === undefined ? undefined : timeUs(d.T, 'T');
  return emitQuote(ev, state.clocks, 'T', symbol, bid, bidSize, ask, askSize, tsUs);
}


/**
 * Binance times are ms, or µs when the stream URL says `timeUnit=MICROSECOND` (since
 * 2024-12-17). A value past 1e14 cannot be ms (that is the year 5138), so it is µs.
 */
function timeUs(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new FrameError(`field ${field} is not a time`);
  return v > 1e14 ? v : v * 1000;
}

// ---- The fast path: the same routes over scanned fields; undefined = ask the oracle. ----

function fastPayload(ev: LogEvent, f: Fields, state: BinanceState): MarketEvent[] | undefined {
  const text = ev.payload;
  const k = f.kind;
  if (k[E] === NONE) {
    if (k[U] !== NONE && k[B] !== NONE && k[A] !== NONE && k[B_QTY] !== NONE && k[A_QTY] !== NONE) return state.census?.skip() ?? fastQuote(ev, f, state);
    bump(state.counts.unknown, 'no-e');
    return [];
  }
  if (k[E] !== STR) return undefined;
  const s = f.start[E]!;
  const end = f.end[E]!;
  // By length first: one comparison of text per frame.
  switch (end - s) {
    case 5:
      if (text.startsWith('trade', s)) return state.census?.skip('trade') ?? fastTrade(ev, f, 'trade', T_ID, state);
      break;
    case 8:
      if (text.startsWith('aggTrade', s)) return state.census?.skip('aggTrade') ?? fastTrade(ev, f, 'aggTrade', A, state);
      break;
    case 10:
      if (text.startsWith('bookTicker', s)) return state.census?.skip() ?? fastQuote(ev, f, state);
      break;
    case 11:
      if (text.startsWith('depthUpdate', s)) {
        bump(state.counts.recognised, 'depthUpdate');
        return [];
      }
      break;
    case 14:
      if (text.startsWith('serverShutdown', s)) return [shutdown(ev)];
      break;
  }
  const e = text.slice(s, end);
  bump(RECOGNISED.has(e) ? state.counts.recognised : state.counts.unknown, e);
  return [];
}

function fastTrade(ev: LogEvent, f: Fields, stream: TradeStream, idSlot: number, state: BinanceState): MarketEvent[] | undefined {
  const text = ev.payload;
  const { kind: k, start: st, end: en } = f;
  if (k[S] !== STR || k[idSlot] !== NUM || k[P] !== STR || k[Q] !== STR || k[T_TIME] !== NUM) return undefined;
  const m = k[M];
  if (m !== TRUE && m !== FALSE) return undefined;
  const id = intAt(text, st[idSlot]!, en[idSlot]!);
  const t = intAt(text, st[T_TIME]!, en[T_TIME]!);
  if (id < 0 || t < 0) return undefined;
  try {
    const symbol = state.symbols.at(text, st[S]!, en[S]!);
    const price = checkPrice(amountAt(text, st[P]!, en[P]!, 'p'), 'p');
    const size = checkSize(amountAt(text, st[Q]!, en[Q]!, 'q'), 'q');
    return emitTrade(ev, state, stream, symbol, BigInt(id), id, price, size, timeUs(t, 'T'), m === TRUE);
  } catch (err) {
    if (err instanceof FrameError) return undefined;
    throw err;
  }
}

function fastQuote(ev: LogEvent, f: Fields, state: BinanceState): MarketEvent[] | undefined {
  const text = ev.payload;
  const { kind: k, start: st, end: en } = f;
  if (k[S] !== STR || k[B] !== STR || k[B_QTY] !== STR || k[A] !== STR || k[A_QTY] !== STR) return undefined;
  let t: number | undefined;
  if (k[T_TIME] !== NONE) {
    if (k[T_TIME] !== NUM || (t = intAt(text, st[T_TIME]!, en[T_TIME]!)) < 0) return undefined;
  }
  try {
    const symbol = state.symbols.at(text, st[S]!, en[S]!);
    const bid = checkPrice(amountAt(text, st[B]!, en[B]!, 'b'), 'b');
    const bidSize = checkQuoteSize(amountAt(text, st[B_QTY]!, en[B_QTY]!, 'B'), 'B');
    const ask = checkPrice(amountAt(text, st[A]!, en[A]!, 'a'), 'a');
    const askSize = checkQuoteSize(amountAt(text, st[A_QTY]!, en[A_QTY]!, 'A'), 'A');
    return emitQuote(ev, state.clocks, 'T', symbol, bid, bidSize, ask, askSize, t === undefined ? undefined : timeUs(t, 'T'));
  } catch (err) {
    if (err instanceof FrameError) return undefined;
    throw err;
  }
}


// ---- REST ----

function decodeRest(ev: LogEvent, state: BinanceState): MarketEvent[] {
  if (ev.payload.startsWith('{"lastUpdateId"')) {
    bump(state.counts.recognised, 'rest:depth');
    return [];
  }
  // Trade backfill: GET /api/v3/historicalTrades?symbol=…&fromId=… (protocols.md §1).
  if (!ev.meta.includes('/historicalTrades')) {
    bump(state.counts.recognised, 'rest:other');
    return [];
  }
  return guarded(ev, () => {
    const param = urlParam(ev.meta, 'symbol');
    if (param === undefined) throw new FrameError('backfill URL without symbol');
    const symbol = symbolOf(param, 'symbol');
    const rows = parseJson(ev.payload);
    if (!Array.isArray(rows)) throw new FrameError('historicalTrades body is not an array');
    // Every row is checked before any is taken: a refused body leaves the continuity state as it was.
    const trades = (rows as BinanceHistoricalTrade[]).map((r): Trade => {
      if (!isObject(r)) throw new FrameError('historicalTrades row is not an object');
      if (typeof r.isBuyerMaker !== 'boolean') throw new FrameError('field isBuyerMaker is not a boolean');
      const tradeId = exactId(r.id, ev.payload, 'id');
      const price = checkPrice(num(r.price, 'price'), 'price');
      const size = checkSize(num(r.qty, 'qty'), 'qty');
      const tsUs = timeUs(r.time, 'time');
      state.clocks.check(symbol, ev.recvNs, tsUs, 'time', true);
      return {
        type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol, tradeId, price, size, side: r.isBuyerMaker ? 'sell' : 'buy', tsUs,
      };
    });
    return trades.flatMap((t) => acceptTrade(ev, state.ids, `${symbol}@trade`, t, state.counts));
  });
}
