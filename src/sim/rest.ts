/**
 * The exchanges' REST trade-backfill responses for simulated trades, in their real shapes
 * (protocols.md §1 "REST backfill", §2 "REST backfill"). The simulator serves these and
 * the recorder logs them verbatim as `rest` events.
 */
import { isoMicros } from './frames.ts';
import type { SimTrade } from './market.ts';

/** Binance `historicalTrades` rows (ascending ids) or Coinbase `trades` rows (newest first). */
export function restTradesBody(exchange: string, trades: readonly SimTrade[]): string {
  if (exchange === 'coinbase') {
    const rows = [...trades].sort((a, b) => b.tradeId - a.tradeId).map((t) =>
      `{"time":"${isoMicros(t.tsUs)}","trade_id":${t.tradeId},"price":"${t.price.toFixed(2)}","size":"${t.size.toFixed(8)}","side":"${t.side === 'buy' ? 'sell' : 'buy'}"}`);
    return `[${rows.join(',')}]`;
  }
  const rows = [...trades].sort((a, b) => a.tradeId - b.tradeId).map((t) =>
    `{"id":${t.tradeId},"price":"${t.price.toFixed(8)}","qty":"${t.size.toFixed(8)}","quoteQty":"${(t.price * t.size).toFixed(8)}","time":${Math.floor(t.tsUs / 1000)},"isBuyerMaker":${t.side === 'sell'},"isBestMatch":true}`);
  return `[${rows.join(',')}]`;
}

/**
 * The URL a recorder asks to backfill from trade `fromId` on (Binance) or for the page of
 * trades older than `beforeId` (Coinbase's `after` cursor means older).
 */
export function restTradesUrl(exchange: string, symbol: string, id: number | bigint, base?: string): string {
  if (exchange === 'coinbase') return `${base ?? 'https://api.exchange.coinbase.com'}/products/${symbol}/trades?after=${id}&limit=1000`;
  return `${base ?? 'https://api.binance.com'}/api/v3/historicalTrades?symbol=${symbol}&fromId=${id}&limit=1000`;
}
