/**
 * Binance spot adapter: a pure function of (LogEvent, BinanceState) → MarketEvent[].
 *
 * Frames are routed by shape (protocols.md §1): `result`/`code` → ack or error, `stream`
 * → combined-stream wrapper, `e` → raw stream payload, and the spot bookTicker, which has
 * no `e` at all. Trade ids (`t`, aggTrade `a`) are contiguous per symbol, so a jump is a gap.
 */
import type { LogEvent } from '../../log/event.ts';
import { bump, newCounts, type DecodeCounts, type MarketEvent, type Trade } from '../../market/events.ts';
import {
  FrameError, TradeIdTracker, acceptTrade, exactId, guarded, isObject, num, origin, parseJson, parseObject, str, urlParam,
} from '../common.ts';
import type { BinanceAggTrade, BinanceBookTicker, BinanceHistoricalTrade, BinanceTrade } from './payloads.ts';

export interface BinanceState {
  readonly ids: TradeIdTracker;
  readonly counts: DecodeCounts;
  /**
   * Which trade stream feeds a symbol's candles: the first one seen (`trade` or `aggTrade`).
   * Their id spaces differ and both carry the same fills, so using both would count twice.
   */
  readonly tradeSource: Map<string, string>;
}

export function newBinanceState(): BinanceState {
  return { ids: new TradeIdTracker(), counts: newCounts(), tradeSource: new Map() };
}

/** Streams and events recognised but not turned into market events (yet). */
const RECOGNISED = new Set(['depthUpdate', 'kline', '24hrTicker', '24hrMiniTicker', 'avgPrice', 'outboundAccountPosition']);

export function decodeBinance(ev: LogEvent, state: BinanceState): MarketEvent[] {
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
  if (e === 'trade') return trade(ev, d as unknown as BinanceTrade, 'trade', state);
  if (e === 'aggTrade') return trade(ev, d as unknown as BinanceAggTrade, 'aggTrade', state);
  // Spot bookTicker has no `e`; futures' has e:"bookTicker" and a time `T`.
  if (e === 'bookTicker' || (e === undefined && 'u' in d && 'b' in d && 'a' in d && 'B' in d && 'A' in d)) {
    return [quote(ev, d as unknown as BinanceBookTicker)];
  }
  if (e === 'serverShutdown') {
    return [{ type: 'status', status: 'shutdown', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail: ev.payload }];
  }
  if (typeof e === 'string' && RECOGNISED.has(e)) {
    bump(state.counts.recognised, e);
    return [];
  }
  bump(state.counts.unknown, typeof e === 'string' ? e : 'no-e');
  return [];
}

function trade(ev: LogEvent, d: BinanceTrade | BinanceAggTrade, stream: 'trade' | 'aggTrade', state: BinanceState): MarketEvent[] {
  const symbol = str(d.s, 's');
  const idField = stream === 'trade' ? 't' : 'a';
  const tradeId = exactId((d as unknown as Record<string, unknown>)[idField], ev.payload, idField);
  const price = num(d.p, 'p');
  const size = num(d.q, 'q');
  const tsUs = timeUs(d.T, 'T');
  if (typeof d.m !== 'boolean') throw new FrameError('field m is not a boolean');
  const source = state.tradeSource.get(symbol);
  if (source === undefined) state.tradeSource.set(symbol, stream);
  else if (source !== stream) {
    bump(state.counts.recognised, `${stream} (second trade stream for ${symbol})`);
    return [];
  }
  return acceptTrade(ev, state.ids, `${symbol}@${stream}`, {
    type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol, tradeId, price, size,
    // `m` is "buyer is maker": then the taker sold.
    side: d.m ? 'sell' : 'buy',
    tsUs,
  }, state.counts);
}

function quote(ev: LogEvent, d: BinanceBookTicker): MarketEvent {
  return {
    type: 'quote', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol: str(d.s, 's'),
    bid: num(d.b, 'b'), bidSize: num(d.B, 'B'), ask: num(d.a, 'a'), askSize: num(d.A, 'A'),
    tsUs: d.T === undefined ? undefined : timeUs(d.T, 'T'),
  };
}

/**
 * Binance times are ms, or µs when the stream URL says `timeUnit=MICROSECOND` (since
 * 2024-12-17). A value past 1e14 cannot be ms (that is the year 5138), so it is µs.
 */
function timeUs(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new FrameError(`field ${field} is not a time`);
  return v > 1e14 ? v : v * 1000;
}

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
    const symbol = urlParam(ev.meta, 'symbol');
    if (symbol === undefined) throw new FrameError('backfill URL without symbol');
    const rows = parseJson(ev.payload);
    if (!Array.isArray(rows)) throw new FrameError('historicalTrades body is not an array');
    const out: MarketEvent[] = [];
    for (const r of rows as BinanceHistoricalTrade[]) {
      if (!isObject(r)) throw new FrameError('historicalTrades row is not an object');
      if (typeof r.isBuyerMaker !== 'boolean') throw new FrameError('field isBuyerMaker is not a boolean');
      const trade: Trade = {
        type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol,
        tradeId: exactId(r.id, ev.payload, 'id'), price: num(r.price, 'price'), size: num(r.qty, 'qty'),
        side: r.isBuyerMaker ? 'sell' : 'buy', tsUs: timeUs(r.time, 'time'),
      };
      out.push(...acceptTrade(ev, state.ids, `${symbol}@trade`, trade, state.counts));
    }
    return out;
  });
}
