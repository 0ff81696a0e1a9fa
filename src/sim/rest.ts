/**
 * The exchanges' REST trade-backfill responses for simulated trades, in their real shapes
 * (each exchange's spec `sim`). The simulator serves these and the recorder logs them
 * verbatim as `rest` events.
 */
import { simSpec } from '../exchanges/registry.ts';
import type { SimTrade } from './market.ts';

/** The exchange's backfill body for these trades, in its order (ascending ids, or newest first). */
export function restTradesBody(exchange: string, trades: readonly SimTrade[]): string {
  return simSpec(exchange).restTradesBody(trades);
}

/**
 * The URL a recorder asks to backfill from trade `id` on, or for the page of trades
 * older than it (each exchange's cursor rule).
 */
export function restTradesUrl(exchange: string, symbol: string, id: number | bigint, base?: string): string {
  return simSpec(exchange).restTradesUrl(symbol, id, base);
}
