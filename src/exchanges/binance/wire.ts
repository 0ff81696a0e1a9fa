/**
 * Binance spot's wire shapes for simulated market events, byte for byte the shapes the
 * real feed sends (payloads.ts has the samples), and its REST backfill bodies and URLs.
 */
import { fixedText } from '../../sim/fixed.ts';
import { tradeDecimals, type SimQuote, type SimTrade } from '../../sim/market.ts';

/** Binance combined-stream stream name, e.g. `btcusdt@trade`. */
export function binanceStream(symbol: string, channel: 'trade' | 'bookTicker'): string {
  return `${symbol.toLowerCase()}@${channel}`;
}

/** The raw (not combined) payload of a Binance trade, post-2024-06 shape (no b/a). */
export function binanceTradePayload(t: SimTrade): string {
  const ms = Math.floor(t.tsUs / 1000);
  // `m` is "buyer is maker": true when the taker sold.
  return `{"e":"trade","E":${ms + 1},"s":"${t.symbol}","t":${t.tradeId},"p":"${fixedText(t.price, 8)}","q":"${fixedText(t.size, 8)}","T":${ms},"m":${t.side === 'sell'},"M":true}`;
}

export function binanceBookTickerPayload(q: SimQuote, updateId: number): string {
  return `{"u":${updateId},"s":"${q.symbol}","b":"${fixedText(q.bid, 8)}","B":"${fixedText(q.bidSize, 8)}","a":"${fixedText(q.ask, 8)}","A":"${fixedText(q.askSize, 8)}"}`;
}

export function binanceCombined(stream: string, payload: string): string {
  return `{"stream":"${stream}","data":${payload}}`;
}

export function binanceSubscribe(streams: readonly string[], id: number): string {
  return JSON.stringify({ method: 'SUBSCRIBE', params: streams, id });
}

/** `historicalTrades` rows, ascending ids (protocols.md §1, REST backfill). */
export function binanceRestTrades(trades: readonly SimTrade[]): string {
  const rows = [...trades].sort((a, b) => a.tradeId - b.tradeId).map((t) => {
    const d = tradeDecimals(t, 8);
    return `{"id":${t.tradeId},"price":"${d.price}","qty":"${d.size}","quoteQty":"${(t.price * t.size).toFixed(8)}","time":${Math.floor(t.tsUs / 1000)},"isBuyerMaker":${t.side === 'sell'},"isBestMatch":true}`;
  });
  return `[${rows.join(',')}]`;
}

/** The backfill from trade `fromId` on. */
export function binanceRestTradesUrl(symbol: string, id: number | bigint, base?: string): string {
  return `${base ?? 'https://api.binance.com'}/api/v3/historicalTrades?symbol=${symbol}&fromId=${id}&limit=1000`;
}
