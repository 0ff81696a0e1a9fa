/**
 * The engine's output rows, one interface per table. Column names are the Parquet and
 * SQL names (snake_case). Every row names the input event it came from
 * (`session`, `ingest_seq`) so a divergence can be traced to its cause.
 */

export interface CandleRow {
  exchange: string;
  symbol: string;
  /** Canonical asset the arbitrage detector matches venues by (`BTC/USD`); empty when unknown. */
  asset: string;
  interval: string;
  /** Window start, epoch ms UTC (exchange time). */
  window_start: bigint;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quote_volume: number;
  vwap: number;
  trades: number;
  buy_volume: number;
  sell_volume: number;
  first_trade_id: bigint;
  last_trade_id: bigint;
  /** False when any flag is set: the window may lack trades. */
  complete: boolean;
  /** Comma-separated: `gap` (a trade-id gap touched it), `start`/`end` (input began/ended inside it). */
  flags: string;
  /** The last trade's log position. */
  session: string;
  ingest_seq: bigint;
}

export interface IndicatorRow {
  exchange: string;
  symbol: string;
  interval: string;
  window_start: bigint;
  close: number;
  /** `sma_20`, `ema_50`, `rsi_14`, …: null until the indicator has enough closes. */
  values: Record<string, number | null>;
  session: string;
  ingest_seq: bigint;
}

export interface ArbitrageRow {
  asset: string;
  /** `start` when the net edge first clears the minimum; `end` when it no longer does. */
  event: 'start' | 'end';
  buy_exchange: string;
  buy_symbol: string;
  sell_exchange: string;
  sell_symbol: string;
  /** Receive time of the event that started or ended it, ns. */
  recv_ns: bigint;
  buy_ask: number;
  sell_bid: number;
  gross_edge_bps: number;
  net_edge_bps: number;
  buy_age_ms: number;
  sell_age_ms: number;
  /** On `end`: the best net edge seen and how long it lasted (recorded time). */
  peak_net_edge_bps: number;
  duration_ms: number;
  /** Why an `end` row ended: `edge`, `stale`, `eof`; empty on `start`. */
  reason: string;
  session: string;
  ingest_seq: bigint;
}

export interface LateRow {
  exchange: string;
  symbol: string;
  interval: string;
  window_start: bigint;
  trade_id: bigint;
  price: number;
  size: number;
  side: string;
  /** Trade's exchange time, µs. */
  ts_us: bigint;
  /** The exchange's watermark when the trade arrived, µs. */
  watermark_us: bigint;
  session: string;
  ingest_seq: bigint;
}

export interface GapRow {
  exchange: string;
  symbol: string;
  from_id: bigint;
  to_id: bigint;
  missing: bigint;
  reason: string;
  recv_ns: bigint;
  session: string;
  ingest_seq: bigint;
}

export interface DecodeErrorRow {
  exchange: string;
  reason: string;
  payload: string;
  recv_ns: bigint;
  session: string;
  ingest_seq: bigint;
}

/** A strategy's order, as decided (see strategies/execution.ts). */
export interface OrderRow {
  order_id: bigint;
  exchange: string;
  symbol: string;
  side: string;
  type: string;
  size: number;
  /** Limit price; null for market orders. */
  price: number | null;
  tag: string;
  /** When it was decided, and when it became live after the configured latency. */
  recv_ns: bigint;
  active_ns: bigint;
  session: string;
  ingest_seq: bigint;
}

export interface FillRow {
  order_id: bigint;
  exchange: string;
  symbol: string;
  side: string;
  price: number;
  size: number;
  fee: number;
  liquidity: string;
  recv_ns: bigint;
  /** The log event whose quote or trade filled it. */
  session: string;
  ingest_seq: bigint;
}

/** Mark-to-market account value, sampled on a fixed grid of recorded time. */
export interface EquityRow {
  time_ns: bigint;
  equity: number;
  cash: number;
  position_value: number;
  gross_exposure: number;
  session: string;
  ingest_seq: bigint;
}

export interface OutputTables {
  candles: CandleRow[];
  indicators: IndicatorRow[];
  arbitrage: ArbitrageRow[];
  late: LateRow[];
  gaps: GapRow[];
  decode_errors: DecodeErrorRow[];
  orders: OrderRow[];
  fills: FillRow[];
  equity: EquityRow[];
}

export type TableName = keyof OutputTables;
export const ENGINE_TABLES: readonly TableName[] = ['candles', 'indicators', 'arbitrage', 'late', 'gaps', 'decode_errors'];
export const STRATEGY_TABLES: readonly TableName[] = ['orders', 'fills', 'equity'];
export const TABLE_NAMES: readonly TableName[] = [...ENGINE_TABLES, ...STRATEGY_TABLES];

/** Receives rows as the engine emits them (in-memory tables, Kafka, a console view). */
export interface OutputSink {
  emit<T extends TableName>(table: T, row: OutputTables[T][number]): void;
}

export function emptyTables(): OutputTables {
  return { candles: [], indicators: [], arbitrage: [], late: [], gaps: [], decode_errors: [], orders: [], fills: [], equity: [] };
}

/** A sink that keeps every row in memory, in emission order. */
export class TableCollector implements OutputSink {
  readonly tables: OutputTables = emptyTables();
  emit<T extends TableName>(table: T, row: OutputTables[T][number]): void {
    (this.tables[table] as OutputTables[T][number][]).push(row);
  }
}
