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

/**
 * The values a parameter takes. `must` says it in words (the end of a refusal, and the
 * README's list); `problem` answers why a value, already typed like the default, is outside
 * the range (usually `must` itself), or undefined when it is inside. Built by the helpers in
 * params.ts (`wholeFrom`, `aboveZero`, `between`, `oneOf`, `interval`, `market`).
 */
export interface ParamRange {
  readonly must: string;
  readonly problem: (value: ParamValue) => string | undefined;
}

/**
 * A parameter: its default, a line on what it does, and the values it takes. `range` is
 * optional, so a strategy of your own without one takes any value of its default's type.
 */
export interface ParamSpec {
  readonly default: ParamValue;
  readonly describe: string;
  readonly range?: ParamRange;
}

/**
 * A rule across parameters (ma-cross: fast below slow), checked once every value is in its
 * range. A `--sweep` skips the combinations that break it (and says how many) instead of
 * refusing the grid: a rectangular grid cannot say "only fast < slow".
 */
export interface ParamRule<P> {
  readonly params: readonly (keyof P & string)[];
  readonly must: string;
  readonly holds: (params: P) => boolean;
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
  /** Rules across parameters; optional, as `range` is. */
  readonly rules?: readonly ParamRule<P>[];
  needs?(params: P): StrategyNeeds;
  init(params: P): S;
  decide(event: StrategyEvent, state: S, params: P, account: AccountView): { state: S; orders: OrderRequest[] };
}
