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
  return dot < 0 ? 0 : text.slice(dot + 1).replace(/0+$/, '').length;
}

/** A step of `decimals` decimals printed with `width` decimals: (2, 8) → `0.01000000`, (0, 2) → `1.00`. */
export function stepText(decimals: number, width = decimals): string {
  if (decimals === 0) return width === 0 ? '1' : `1.${'0'.repeat(width)}`;
  return `0.${'0'.repeat(decimals - 1)}1${'0'.repeat(Math.max(0, width - decimals))}`;
}

/** The markets these trades show, by symbol, in symbol order. */
export function marketsOf(exchange: string, trades: Iterable<SimTrade>): MarketInfo[] {
  const by = new Map<string, { price: number; size: number }>();
  for (const t of trades) {
    const d = tradeDecimals(t, 2, 8);
    const m = by.get(t.symbol) ?? { price: 0, size: 0 };
    by.set(t.symbol, { price: Math.max(m.price, decimalsOf(d.price)), size: Math.max(m.size, decimalsOf(d.size)) });
  }
  return [...by.keys()].sort().map((symbol) => {
    const [base, quote] = exchangeSpec(exchange)?.symbols.split(symbol) ?? [symbol, ''];
    return { symbol, base, quote, priceDecimals: by.get(symbol)!.price, sizeDecimals: by.get(symbol)!.size };
  });
}
