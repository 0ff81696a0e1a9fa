/**
 * The exchanges' REST trade-backfill responses for simulated trades, in their real shapes
 * (each exchange's spec `sim`). The simulator serves these and the recorder logs them
 * verbatim as `rest` events.
 */
import { simSpec } from '../exchanges/registry.ts';
import type { SimTrade } from './market.ts';

/** The exchange's backfill body for these trades, in its order (Binance ascending ids, Coinbase newest first). */
export function restTradesBody(exchange: string, trades: readonly SimTrade[]): string {
  return simSpec(exchange).restTradesBody(trades);
}

/**
 * The URL a recorder asks to backfill from trade `fromId` on (Binance) or for the page of
 * trades older than `beforeId` (Coinbase's `after` cursor means older).
 */
export function restTradesUrl(exchange: string, symbol: string, id: number | bigint, base?: string): string {
  return simSpec(exchange).restTradesUrl(symbol, id, base);
}
