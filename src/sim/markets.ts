/**
 * What a re-served recording says about its markets, for the REST metadata clients load
 * first (each exchange's market list): each symbol, its base and quote, and
 * the finest decimals its recorded prices and sizes use (the tick and lot steps it shows).
 */
import { exchangeSpec } from '../exchanges/registry.ts';
import { tradeDecimals, type SimTrade } from './market.ts';

export interface MarketInfo {
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /** Decimals of the finest recorded price / size (2 → a step of 0.01). */
  readonly priceDecimals: number;
  readonly sizeDecimals: number;
}

/** Decimals a number printed as `text` needs: `61234.01000000` → 2. */
export function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return 0;
  let end = text.length;
  while (end > dot + 1 && text.charCodeAt(end - 1) === 48 /* 0 */) end--;
  return end - dot - 1;
}

/** The finest decimals a market's trades have printed so far, widened one trade at a time. */
export class MarketDecimals {
  price = 0;
  size = 0;

  add(t: SimTrade): void {
    const d = tradeDecimals(t, 2, 8);
    this.price = Math.max(this.price, decimalsOf(d.price));
    this.size = Math.max(this.size, decimalsOf(d.size));
  }
}

/** A market's REST metadata: its symbol split into base and quote, and its decimals. */
export function marketInfo(exchange: string, symbol: string, d: MarketDecimals): MarketInfo {
  const [base, quote] = exchangeSpec(exchange)?.symbols.split(symbol) ?? [symbol, ''];
  return { symbol, base, quote, priceDecimals: d.price, sizeDecimals: d.size };
}

/** A step of `decimals` decimals printed with `width` decimals: (2, 8) → `0.01000000`, (0, 2) → `1.00`. */
export function stepText(decimals: number, width = decimals): string {
  if (decimals === 0) return width === 0 ? '1' : `1.${'0'.repeat(width)}`;
  return `0.${'0'.repeat(decimals - 1)}1${'0'.repeat(Math.max(0, width - decimals))}`;
}

/** The markets these trades show, by symbol, in symbol order. */
export function marketsOf(exchange: string, trades: Iterable<SimTrade>): MarketInfo[] {
  const by = new Map<string, MarketDecimals>();
  for (const t of trades) {
    let d = by.get(t.symbol);
    if (d === undefined) by.set(t.symbol, (d = new MarketDecimals()));
    d.add(t);
  }
  return [...by.keys()].sort().map((symbol) => marketInfo(exchange, symbol, by.get(symbol)!));
}
