/**
 * Coinbase Exchange's wire shapes for simulated market events, byte for byte the shapes the
 * real feed sends (payloads.ts has the samples), and its REST backfill bodies and URLs.
 */
import { fixedText } from '../../sim/fixed.ts';
import { isoMicros } from '../../log/time.ts';
import { tradeDecimals, type SimQuote, type SimTrade } from '../../sim/market.ts';

/** A made-up order id in Coinbase's UUID shape, the same for the same `n`. */
function orderId(n: number): string {
  return `${(n * 2654435761 % 0xffffffff).toString(16).padStart(8, '0')}-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/** Coinbase `match`: `side` is the MAKER side, so a taker buy is printed as "sell". */
export function coinbaseMatch(t: SimTrade, sequence: number, type: 'match' | 'last_match' = 'match'): string {
  const maker = t.side === 'buy' ? 'sell' : 'buy';
  const d = tradeDecimals(t, 2);
  return `{"type":"${type}","trade_id":${t.tradeId},"maker_order_id":"${orderId(t.tradeId * 2)}","taker_order_id":"${orderId(t.tradeId * 2 + 1)}","side":"${maker}","size":"${d.size}","price":"${d.price}","product_id":"${t.symbol}","sequence":${sequence},"time":"${isoMicros(t.tsUs)}"}`;
}

/** Coinbase `ticker` with best bid/offer (and, since 2022, their sizes). */
export function coinbaseTicker(q: SimQuote, sequence: number, last: { price: number; size: number; side: string; tradeId: number } | undefined): string {
  const price = fixedText(last ? last.price : (q.bid + q.ask) / 2, 2);
  return `{"type":"ticker","sequence":${sequence},"product_id":"${q.symbol}","price":"${price}","open_24h":"${price}","volume_24h":"0","low_24h":"${price}","high_24h":"${price}","volume_30d":"0","best_bid":"${fixedText(q.bid, 2)}","best_bid_size":"${fixedText(q.bidSize, 8)}","best_ask":"${fixedText(q.ask, 2)}","best_ask_size":"${fixedText(q.askSize, 8)}","side":"${last?.side ?? 'buy'}","time":"${isoMicros(q.tsUs)}","trade_id":${last?.tradeId ?? 0},"last_size":"${fixedText(last?.size ?? 0, 8)}"}`;
}

export function coinbaseHeartbeat(symbol: string, sequence: number, lastTradeId: number, tsUs: number): string {
  return `{"type":"heartbeat","last_trade_id":${lastTradeId},"product_id":"${symbol}","sequence":${sequence},"time":"${isoMicros(tsUs)}"}`;
}

export function coinbaseSubscriptions(symbols: readonly string[]): string {
  const ids = JSON.stringify(symbols);
  return `{"type":"subscriptions","channels":[{"name":"matches","product_ids":${ids}},{"name":"ticker","product_ids":${ids}},{"name":"heartbeat","product_ids":${ids}}]}`;
}

export function coinbaseSubscribe(symbols: readonly string[]): string {
  return JSON.stringify({ type: 'subscribe', product_ids: symbols, channels: ['matches', 'ticker', 'heartbeat'] });
}

/** `GET /products/{id}/trades` rows, newest first; `side` is the maker side as on the feed. */
export function coinbaseRestTrades(trades: readonly SimTrade[]): string {
  const rows = [...trades].sort((a, b) => b.tradeId - a.tradeId).map((t) => {
    const d = tradeDecimals(t, 2);
    return `{"time":"${isoMicros(t.tsUs)}","trade_id":${t.tradeId},"price":"${d.price}","size":"${d.size}","side":"${t.side === 'buy' ? 'sell' : 'buy'}"}`;
  });
  return `[${rows.join(',')}]`;
}

/** The page of trades older than `beforeId` (Coinbase's `after` cursor means older). */
export function coinbaseRestTradesUrl(symbol: string, id: number | bigint, base?: string): string {
  return `${base ?? 'https://api.exchange.coinbase.com'}/products/${symbol}/trades?after=${id}&limit=1000`;
}
