/**
 * Bitstamp WebSocket v2's wire shapes for simulated market events, in the 2022 compact
 * key order of the real feed (payloads.ts has the samples), and its REST `transactions`
 * bodies and URLs. Times are µs printed at ms resolution, as the real `microtimestamp` is.
 */
import { fixedText } from '../../sim/fixed.ts';
import { tradeDecimals, type SimQuote, type SimTrade } from '../../sim/market.ts';

export const bitstampSubscribe = (channel: string): string => JSON.stringify({ event: 'bts:subscribe', data: { channel } });

export const bitstampSubscribed = (channel: string): string => `{"event":"bts:subscription_succeeded","channel":"${channel}","data":{}}`;

/** The server's notice before maintenance: clients reconnect to another server. */
export const BITSTAMP_RECONNECT = '{"event":"bts:request_reconnect","channel":"","data":""}';

/** The server's answer to a client's `bts:heartbeat`. */
export const BITSTAMP_HEARTBEAT = '{"event":"bts:heartbeat","channel":"","data":{"status":"success"}}';

/** Every channel a recorder subscribes to for these pairs: live trades and top of book. */
export const bitstampChannels = (pairs: readonly string[]): string[] => pairs.flatMap((p) => [`live_trades_${p}`, `order_book_${p}`]);

const msUs = (tsUs: number): number => Math.floor(tsUs / 1000) * 1000;

/** A `trade` on `live_trades_<pair>`: `type` 0/1 = taker buy/sell; the taker's order is the newer (larger) id. */
export function bitstampTrade(t: SimTrade): string {
  const d = tradeDecimals(t, 2);
  const us = msUs(t.tsUs);
  const maker = 1_400_000_000_000_000 + 2 * t.tradeId;
  const [buy, sell] = t.side === 'buy' ? [maker + 1, maker] : [maker, maker + 1];
  return `{"data":{"id":${t.tradeId},"timestamp":"${Math.floor(us / 1e6)}","amount":${Number(d.size)},"amount_str":"${d.size}","price":${Number(d.price)},"price_str":"${d.price}","type":${t.side === 'buy' ? 0 : 1},"microtimestamp":"${us}","buy_order_id":${buy},"sell_order_id":${sell}},"channel":"live_trades_${t.symbol}","event":"trade"}`;
}

/** An `order_book_<pair>` update: the simulated market has only the top level on each side. */
export function bitstampBook(q: SimQuote): string {
  const us = msUs(q.tsUs);
  return `{"data":{"timestamp":"${Math.floor(us / 1e6)}","microtimestamp":"${us}","bids":[["${fixedText(q.bid, 2)}","${fixedText(q.bidSize, 8)}"]],"asks":[["${fixedText(q.ask, 2)}","${fixedText(q.askSize, 8)}"]]},"channel":"order_book_${q.symbol}","event":"data"}`;
}

/** `GET /api/v2/transactions/{pair}/` rows, newest first, every value a string. */
export function bitstampTransactions(trades: readonly SimTrade[]): string {
  const rows = [...trades].sort((a, b) => b.tradeId - a.tradeId).map((t) => {
    const d = tradeDecimals(t, 2);
    return `{"date":"${Math.floor(t.tsUs / 1e6)}","tid":"${t.tradeId}","amount":"${d.size}","type":"${t.side === 'buy' ? 0 : 1}","price":"${d.price}"}`;
  });
  return `[${rows.join(',')}]`;
}

/** The pair's trades of the last minute, hour or day: Bitstamp pages by time, not by id. */
export function bitstampTransactionsUrl(pair: string, time: 'minute' | 'hour' | 'day', base?: string): string {
  return `${base ?? 'https://www.bitstamp.net'}/api/v2/transactions/${pair}/?time=${time}`;
}
