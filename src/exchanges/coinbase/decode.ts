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
import { bump, newCounts, type DecodeCounts, type MarketEvent, type Trade } from '../../market/events.ts';
import {
  FrameError, TradeIdTracker, acceptTrade, exactId, gapEvent, guarded, isObject, num, origin, parseJson, parseObject, str,
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
  if (ev.kind === 'rest') return decodeRest(ev, state);
  if (ev.kind !== 'frame') return [];
  return guarded(ev, () => {
    const msg = parseObject(ev.payload);
    const type = msg.type;
    switch (type) {
      case 'match':
      case 'last_match':
      {
        const t = matchTrade(ev, msg as unknown as CoinbaseMatch);
        return acceptTrade(ev, state.ids, t.symbol, t, state.counts);
      }
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
  });
}

function timeUs(v: unknown): number {
  try {
    return Number(isoToNs(str(v, 'time')) / 1000n);
  } catch {
    throw new FrameError(`field time is not an ISO time: ${JSON.stringify(v)}`);
  }
}

/** A match (feed or REST row) as a normalized trade. */
function matchTrade(ev: LogEvent, m: CoinbaseMatch): Trade {
  const symbol = str(m.product_id, 'product_id');
  if (m.side !== 'buy' && m.side !== 'sell') throw new FrameError(`field side is not buy/sell: ${JSON.stringify(m.side)}`);
  return {
    type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol,
    tradeId: exactId(m.trade_id, ev.payload, 'trade_id'), price: num(m.price, 'price'), size: num(m.size, 'size'),
    // `side` is the maker's order side: a resting sell was hit by a taker BUY.
    side: m.side === 'sell' ? 'buy' : 'sell',
    tsUs: timeUs(m.time),
  };
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
    const symbol = decodeURIComponent(m[1]!);
    const rows = parseJson(ev.payload);
    if (!Array.isArray(rows)) throw new FrameError('trades body is not an array');
    const trades = rows.map((r) => {
      if (!isObject(r)) throw new FrameError('trades row is not an object');
      return matchTrade(ev, { ...(r as unknown as CoinbaseMatch), type: 'match', product_id: symbol });
    });
    trades.sort((a, b) => (a.tradeId < b.tradeId ? -1 : a.tradeId > b.tradeId ? 1 : 0));
    return trades.flatMap((t) => acceptTrade(ev, state.ids, symbol, t, state.counts));
  });
}
