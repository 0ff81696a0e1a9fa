/**
 * The simulated market in each exchange's own wire format, byte for byte the shapes real
 * feeds send (see the payload samples beside each adapter). The simulator server and the
 * offline demo both speak through these.
 */
import type { SimEvent, SimQuote, SimTrade } from './market.ts';

/** ISO-8601 UTC with µs, as Coinbase prints times. */
export const isoMicros = (tsUs: number): string => {
  const ms = Math.floor(tsUs / 1000);
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(tsUs % 1_000_000).padStart(6, '0')}Z`;
};

/** Binance combined-stream stream name, e.g. `btcusdt@trade`. */
export function binanceStream(symbol: string, channel: 'trade' | 'bookTicker'): string {
  return `${symbol.toLowerCase()}@${channel}`;
}

/** The raw (not combined) payload of a Binance trade, post-2024-06 shape (no b/a). */
export function binanceTradePayload(t: SimTrade): string {
  const ms = Math.floor(t.tsUs / 1000);
  // `m` is "buyer is maker": true when the taker sold.
  return `{"e":"trade","E":${ms + 1},"s":"${t.symbol}","t":${t.tradeId},"p":"${t.price.toFixed(8)}","q":"${t.size.toFixed(8)}","T":${ms},"m":${t.side === 'sell'},"M":true}`;
}

export function binanceBookTickerPayload(q: SimQuote, updateId: number): string {
  return `{"u":${updateId},"s":"${q.symbol}","b":"${q.bid.toFixed(8)}","B":"${q.bidSize.toFixed(8)}","a":"${q.ask.toFixed(8)}","A":"${q.askSize.toFixed(8)}"}`;
}

export function binanceCombined(stream: string, payload: string): string {
  return `{"stream":"${stream}","data":${payload}}`;
}

/** Coinbase `match`: `side` is the MAKER side, so a taker buy is printed as "sell". */
export function coinbaseMatch(t: SimTrade, sequence: number, type: 'match' | 'last_match' = 'match'): string {
  const maker = t.side === 'buy' ? 'sell' : 'buy';
  const id = (n: number): string => `${(n * 2654435761 % 0xffffffff).toString(16).padStart(8, '0')}-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return `{"type":"${type}","trade_id":${t.tradeId},"maker_order_id":"${id(t.tradeId * 2)}","taker_order_id":"${id(t.tradeId * 2 + 1)}","side":"${maker}","size":"${t.size.toFixed(8)}","price":"${t.price.toFixed(2)}","product_id":"${t.symbol}","sequence":${sequence},"time":"${isoMicros(t.tsUs)}"}`;
}

/** Coinbase `ticker` with best bid/offer (and, since 2022, their sizes). */
export function coinbaseTicker(q: SimQuote, sequence: number, last: { price: number; size: number; side: string; tradeId: number } | undefined): string {
  const price = last ? last.price.toFixed(2) : ((q.bid + q.ask) / 2).toFixed(2);
  return `{"type":"ticker","sequence":${sequence},"product_id":"${q.symbol}","price":"${price}","open_24h":"${price}","volume_24h":"0","low_24h":"${price}","high_24h":"${price}","volume_30d":"0","best_bid":"${q.bid.toFixed(2)}","best_bid_size":"${q.bidSize.toFixed(8)}","best_ask":"${q.ask.toFixed(2)}","best_ask_size":"${q.askSize.toFixed(8)}","side":"${last?.side ?? 'buy'}","time":"${isoMicros(q.tsUs)}","trade_id":${last?.tradeId ?? 0},"last_size":"${(last?.size ?? 0).toFixed(8)}"}`;
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

export function binanceSubscribe(streams: readonly string[], id: number): string {
  return JSON.stringify({ method: 'SUBSCRIBE', params: streams, id });
}

/**
 * One market event as its exchange sends it: Binance's raw stream payload (wrap it with
 * `binanceCombined` for combined streams), Coinbase's feed message. Keeps the sequence
 * numbers and the last trade a Coinbase ticker repeats.
 */
export class FrameEncoder {
  private binanceUpdateId = 50_000_000_000;
  private coinbaseSeq = 300_000_000;
  private readonly lastTrade = new Map<string, SimTrade>();

  encode(e: SimEvent): string {
    if (e.exchange === 'coinbase') {
      this.coinbaseSeq += 1 + (this.coinbaseSeq % 7);
      if (e.kind === 'trade') {
        this.lastTrade.set(e.symbol, e);
        return coinbaseMatch(e, this.coinbaseSeq);
      }
      const t = this.lastTrade.get(e.symbol);
      return coinbaseTicker(e, this.coinbaseSeq, t && { price: t.price, size: t.size, side: t.side, tradeId: t.tradeId });
    }
    if (e.kind === 'trade') return binanceTradePayload(e);
    this.binanceUpdateId += 1 + (this.binanceUpdateId % 5);
    return binanceBookTickerPayload(e, this.binanceUpdateId);
  }
}
