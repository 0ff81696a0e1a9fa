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
import { bump, newCounts, type DecodeCounts, type MarketEvent } from '../../market/events.ts';
import {
  FrameError, TradeIdTracker, decodeError, exactId, gapEvent, isObject, num, origin, parseJson, str,
} from '../common.ts';
import type { CoinbaseHeartbeat, CoinbaseMatch, CoinbaseTicker } from './payloads.ts';

export interface CoinbaseState {
  readonly ids: TradeIdTracker;
  readonly counts: DecodeCounts;
}

export function newCoinbaseState(): CoinbaseState {
  return { ids: new TradeIdTracker(), counts: newCounts() };
}

const RECOGNISED = new Set(['l2update', 'snapshot', 'status', 'received', 'open', 'done', 'change', 'activate']);

export function decodeCoinbase(ev: LogEvent, state: CoinbaseState): MarketEvent[] {
  if (ev.kind === 'rest') {
    bump(state.counts.recognised, 'rest');
    return [];
  }
  if (ev.kind !== 'frame') return [];
  try {
    const msg = parseJson(ev.payload);
    if (!isObject(msg)) throw new FrameError('frame is not a JSON object');
    const type = msg.type;
    switch (type) {
      case 'match':
      case 'last_match':
        return match(ev, msg as unknown as CoinbaseMatch, state);
      case 'ticker':
        return ticker(ev, msg as unknown as CoinbaseTicker);
      case 'heartbeat':
        return heartbeat(ev, msg as unknown as CoinbaseHeartbeat, state);
      case 'subscriptions':
        return [{ type: 'status', status: 'subscribed', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail: ev.payload }];
      case 'error':
        return [{ type: 'status', status: 'error', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail: `${String(msg.message)}: ${String(msg.reason ?? '')}` }];
      default:
        if (typeof type === 'string' && RECOGNISED.has(type)) bump(state.counts.recognised, type);
        else bump(state.counts.unknown, typeof type === 'string' ? type : 'no-type');
        return [];
    }
  } catch (err) {
    if (err instanceof FrameError) return [decodeError(ev, err.message)];
    throw err;
  }
}

function timeUs(v: unknown): number {
  try {
    return Number(isoToNs(str(v, 'time')) / 1000n);
  } catch {
    throw new FrameError(`field time is not an ISO time: ${JSON.stringify(v)}`);
  }
}

function match(ev: LogEvent, m: CoinbaseMatch, state: CoinbaseState): MarketEvent[] {
  const symbol = str(m.product_id, 'product_id');
  const tradeId = exactId(m.trade_id, ev.payload, 'trade_id');
  const price = num(m.price, 'price');
  const size = num(m.size, 'size');
  if (m.side !== 'buy' && m.side !== 'sell') throw new FrameError(`field side is not buy/sell: ${JSON.stringify(m.side)}`);
  const tsUs = timeUs(m.time);
  const c = state.ids.observe(symbol, tradeId);
  if (c.kind === 'duplicate') {
    state.counts.duplicates++;
    return [];
  }
  const out: MarketEvent[] = [];
  if (c.kind === 'gap') out.push(gapEvent(ev, symbol, c, 'trade'));
  out.push({
    type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol, tradeId, price, size,
    // `side` is the maker's order side: a resting sell was hit by a taker BUY.
    side: m.side === 'sell' ? 'buy' : 'sell',
    tsUs,
  });
  return out;
}

function ticker(ev: LogEvent, t: CoinbaseTicker): MarketEvent[] {
  if (t.best_bid === undefined || t.best_ask === undefined) {
    throw new FrameError('ticker without best_bid/best_ask');
  }
  return [{
    type: 'quote', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol: str(t.product_id, 'product_id'),
    bid: num(t.best_bid, 'best_bid'), ask: num(t.best_ask, 'best_ask'),
    // Sizes appeared in the ticker in 2022 (`best_bid_size`); older feeds lack them.
    bidSize: t.best_bid_size === undefined ? 0 : num(t.best_bid_size, 'best_bid_size'),
    askSize: t.best_ask_size === undefined ? 0 : num(t.best_ask_size, 'best_ask_size'),
    tsUs: t.time === undefined ? undefined : timeUs(t.time),
  }];
}

function heartbeat(ev: LogEvent, h: CoinbaseHeartbeat, state: CoinbaseState): MarketEvent[] {
  const symbol = str(h.product_id, 'product_id');
  const out: MarketEvent[] = [{ type: 'status', status: 'heartbeat', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail: symbol }];
  const last = exactId(h.last_trade_id, ev.payload, 'last_trade_id');
  // An old client bug report says last_trade_id can be 0 (protocols.md §2): no information.
  if (last > 0n) {
    const c = state.ids.advance(symbol, last);
    if (c.kind === 'gap') out.push(gapEvent(ev, symbol, c, 'heartbeat'));
  }
  return out;
}
