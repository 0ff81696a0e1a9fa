/**
 * What a strategy is: a pure decider. It sees the engine's events in log order — closed
 * candles, indicator values, best bid/offer, arbitrage opportunities, and its own fills —
 * with its own state, and answers with orders. No clock, no I/O: the same events give the
 * same orders, in a backtest and paper-trading live alike.
 */
import type { ArbitrageRow, CandleRow, IndicatorRow } from '../src/engine/rows.ts';
import type { Quote, Side } from '../src/market/events.ts';

export interface OrderRequest {
  readonly exchange: string;
  readonly symbol: string;
  readonly side: Side;
  /** Base-currency quantity. */
  readonly size: number;
  readonly type: 'market' | 'limit';
  /** Limit price (limit orders only). */
  readonly price?: number;
  /** Free text carried into the orders table. */
  readonly tag?: string;
}

export interface FillEvent {
  readonly orderId: number;
  readonly exchange: string;
  readonly symbol: string;
  readonly side: Side;
  readonly price: number;
  readonly size: number;
  readonly fee: number;
  readonly liquidity: 'taker' | 'maker';
  /** Whether the order is now completely filled. */
  readonly done: boolean;
}

export type StrategyEvent =
  | { readonly type: 'candle'; readonly candle: CandleRow }
  | { readonly type: 'indicators'; readonly indicators: IndicatorRow }
  | { readonly type: 'quote'; readonly quote: Quote }
  | { readonly type: 'arbitrage'; readonly arbitrage: ArbitrageRow }
  | { readonly type: 'fill'; readonly fill: FillEvent };

/** A read-only view of the account, for sizing decisions. */
export interface AccountView {
  position(exchange: string, symbol: string): number;
  cash(exchange: string): number;
  /** Orders placed and not yet completely filled. */
  openOrders(exchange: string, symbol: string): number;
}

export type ParamValue = number | string | boolean;

/** A parameter: its default, and a line on what it does (shown by `backtest --help-strategy`). */
export interface ParamSpec {
  readonly default: ParamValue;
  readonly describe: string;
}

/** What a strategy needs the engine to compute for it (merged into the run's engine options). */
export interface StrategyNeeds {
  readonly windowsMs?: readonly number[];
  readonly sma?: readonly number[];
  readonly ema?: readonly number[];
  readonly rsi?: number;
}

export interface Strategy<P extends Record<string, ParamValue> = Record<string, ParamValue>, S = unknown> {
  readonly name: string;
  readonly describe: string;
  readonly params: { readonly [K in keyof P]: ParamSpec };
  needs?(params: P): StrategyNeeds;
  init(params: P): S;
  decide(event: StrategyEvent, state: S, params: P, account: AccountView): { state: S; orders: OrderRequest[] };
}

/** Parameters from defaults overridden by `k=v` strings, typed like their defaults. */
export function resolveParams(strategy: Strategy, overrides: Readonly<Record<string, string>>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [k, spec] of Object.entries(strategy.params)) out[k] = spec.default;
  for (const [k, v] of Object.entries(overrides)) {
    const spec = strategy.params[k];
    if (spec === undefined) throw new Error(`strategy ${strategy.name} has no parameter ${JSON.stringify(k)} (it has: ${Object.keys(strategy.params).join(', ')})`);
    if (typeof spec.default === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`parameter ${k} of ${strategy.name} must be a number, not ${JSON.stringify(v)}`);
      out[k] = n;
    } else if (typeof spec.default === 'boolean') {
      if (v !== 'true' && v !== 'false') throw new Error(`parameter ${k} of ${strategy.name} must be true or false`);
      out[k] = v === 'true';
    } else out[k] = v;
  }
  return out;
}
