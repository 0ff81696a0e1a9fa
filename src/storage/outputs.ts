/**
 * Output tables as Parquet, with a canonical digest per table. The digest is SHA-256 over
 * the rows in canonical order (each table's key), one JSON array per row, with INT64 as
 * decimal strings and doubles in JavaScript's shortest round-trip form: two runs agree
 * on a digest exactly when they agree on every value.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { OutputTables, TableName } from '../engine/rows.ts';
import { cell, writeParquet, type Column } from './parquet.ts';

/** Times are INT64 (exact, any reader) with a TIMESTAMP(ms, UTC) twin for dataframe users. */
const KEY_CANDLE: Column[] = [
  { name: 'exchange', type: 'STRING' }, { name: 'symbol', type: 'STRING' }, { name: 'interval', type: 'STRING' },
  { name: 'window_start', type: 'INT64' },
  { name: 'window_time', type: 'TIMESTAMP', derive: (r) => r.window_start },
];
const RECV_TIME: Column = { name: 'recv_time', type: 'TIMESTAMP', derive: (r) => (r.recv_ns as bigint) / 1_000_000n };
const ORIGIN: Column[] = [{ name: 'session', type: 'STRING' }, { name: 'ingest_seq', type: 'INT64' }];

export function tableColumns(table: TableName, indicatorColumns: readonly string[]): Column[] {
  switch (table) {
    case 'candles':
      return [
        ...KEY_CANDLE, { name: 'asset', type: 'STRING' },
        ...['open', 'high', 'low', 'close', 'volume', 'quote_volume', 'vwap'].map((name) => ({ name, type: 'DOUBLE' as const })),
        { name: 'trades', type: 'INT32' },
        { name: 'buy_volume', type: 'DOUBLE' }, { name: 'sell_volume', type: 'DOUBLE' },
        { name: 'first_trade_id', type: 'INT64' }, { name: 'last_trade_id', type: 'INT64' },
        { name: 'complete', type: 'BOOLEAN' }, { name: 'flags', type: 'STRING' }, ...ORIGIN,
      ];
    case 'indicators':
      return [...KEY_CANDLE, { name: 'close', type: 'DOUBLE' }, ...indicatorColumns.map((name) => ({ name, type: 'DOUBLE' as const, nullable: true })), ...ORIGIN];
    case 'arbitrage':
      return [
        { name: 'asset', type: 'STRING' }, { name: 'event', type: 'STRING' },
        { name: 'buy_exchange', type: 'STRING' }, { name: 'buy_symbol', type: 'STRING' },
        { name: 'sell_exchange', type: 'STRING' }, { name: 'sell_symbol', type: 'STRING' },
        { name: 'recv_ns', type: 'INT64' }, RECV_TIME,
        ...['buy_ask', 'sell_bid', 'gross_edge_bps', 'net_edge_bps', 'buy_age_ms', 'sell_age_ms', 'peak_net_edge_bps', 'duration_ms']
          .map((name) => ({ name, type: 'DOUBLE' as const })),
        { name: 'reason', type: 'STRING' }, ...ORIGIN,
      ];
    case 'late':
      return [
        ...KEY_CANDLE, { name: 'trade_id', type: 'INT64' }, { name: 'price', type: 'DOUBLE' }, { name: 'size', type: 'DOUBLE' },
        { name: 'side', type: 'STRING' }, { name: 'ts_us', type: 'INT64' }, { name: 'watermark_us', type: 'INT64' }, ...ORIGIN,
      ];
    case 'gaps':
      return [
        { name: 'exchange', type: 'STRING' }, { name: 'symbol', type: 'STRING' }, { name: 'from_id', type: 'INT64' },
        { name: 'to_id', type: 'INT64' }, { name: 'missing', type: 'INT64' }, { name: 'reason', type: 'STRING' },
        { name: 'recv_ns', type: 'INT64' }, RECV_TIME, ...ORIGIN,
      ];
    case 'decode_errors':
      return [
        { name: 'exchange', type: 'STRING' }, { name: 'reason', type: 'STRING' }, { name: 'payload', type: 'STRING' },
        { name: 'recv_ns', type: 'INT64' }, RECV_TIME, ...ORIGIN,
      ];
    case 'orders':
      return [
        { name: 'order_id', type: 'INT64' }, { name: 'exchange', type: 'STRING' }, { name: 'symbol', type: 'STRING' },
        { name: 'side', type: 'STRING' }, { name: 'type', type: 'STRING' }, { name: 'size', type: 'DOUBLE' },
        { name: 'price', type: 'DOUBLE', nullable: true }, { name: 'tag', type: 'STRING' },
        { name: 'recv_ns', type: 'INT64' }, RECV_TIME, { name: 'active_ns', type: 'INT64' }, ...ORIGIN,
      ];
    case 'fills':
      return [
        { name: 'order_id', type: 'INT64' }, { name: 'exchange', type: 'STRING' }, { name: 'symbol', type: 'STRING' },
        { name: 'side', type: 'STRING' }, { name: 'price', type: 'DOUBLE' }, { name: 'size', type: 'DOUBLE' },
        { name: 'fee', type: 'DOUBLE' }, { name: 'liquidity', type: 'STRING' },
        { name: 'recv_ns', type: 'INT64' }, RECV_TIME, ...ORIGIN,
      ];
    case 'equity':
      return [
        { name: 'time_ns', type: 'INT64' }, { name: 'time', type: 'TIMESTAMP', derive: (r) => (r.time_ns as bigint) / 1_000_000n },
        ...['equity', 'cash', 'position_value', 'gross_exposure'].map((name) => ({ name, type: 'DOUBLE' as const })), ...ORIGIN,
      ];
  }
}

/** Columns that order each table canonically. */
const SORT_KEYS: Record<TableName, string[]> = {
  candles: ['exchange', 'symbol', 'interval', 'window_start'],
  indicators: ['exchange', 'symbol', 'interval', 'window_start'],
  arbitrage: ['recv_ns', 'session', 'ingest_seq', 'asset', 'buy_exchange', 'sell_exchange', 'event'],
  late: ['session', 'ingest_seq', 'exchange', 'symbol', 'interval'],
  gaps: ['session', 'ingest_seq', 'exchange', 'symbol', 'from_id'],
  decode_errors: ['session', 'ingest_seq'],
  orders: ['order_id'],
  fills: ['session', 'ingest_seq', 'order_id'],
  equity: ['time_ns'],
};

type Row = Record<string, unknown>;

/** Flattens a row (indicator values become columns): one copy of one shape, not a rest copy spread again. */
function flat(table: TableName, row: object): Row {
  if (table !== 'indicators') return row as Row;
  const src = row as Row;
  const out: Row = {};
  for (const k in src) if (k !== 'values') out[k] = src[k];
  const values = src.values as Record<string, number | null> | undefined;
  for (const k in values) out[k] = values[k];
  return out;
}

function cmp(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return (a as number) < (b as number) ? -1 : 1;
}

export function canonicalRows(table: TableName, rows: readonly object[]): Row[] {
  const keys = SORT_KEYS[table];
  // Each row's sort key is read once, not at every comparison (n reads of each key, not n log n).
  const keyed = rows.map((r) => {
    const row = flat(table, r);
    return { row, key: keys.map((k) => row[k]) };
  });
  keyed.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) {
      const c = cmp(a.key[i], b.key[i]);
      if (c !== 0) return c;
    }
    return 0;
  });
  return keyed.map((k) => k.row);
}

export function canonicalLine(row: Row, columns: readonly Column[]): string {
  return JSON.stringify(columns.map((c) => {
    // Derived columns are recomputed from their source, also for rows read back from Parquet.
    const v = cell(row, c);
    return typeof v === 'bigint' ? v.toString() : v === undefined ? null : v;
  }));
}

export interface TableResult {
  readonly rows: number;
  /** SHA-256 of the canonical content. */
  readonly sha256: string;
  readonly file: string;
}

export function digestRows(rows: readonly Row[], columns: readonly Column[]): string {
  const h = createHash('sha256');
  // Lines are hashed 64 KB at a time, not one update each (a fifth of the digest's time; the digest of the concatenation is the same).
  let text = '';
  for (const r of rows) {
    text += `${canonicalLine(r, columns)}\n`;
    if (text.length >= 65_536) {
      h.update(text);
      text = '';
    }
  }
  return h.update(text).digest('hex');
}

/** Canonical digests of in-memory tables, without writing them. */
export function digestTables(tables: OutputTables, indicatorColumns: readonly string[]): Record<TableName, string> {
  const out = {} as Record<TableName, string>;
  for (const name of Object.keys(tables) as TableName[]) {
    const columns = tableColumns(name, indicatorColumns);
    out[name] = digestRows(canonicalRows(name, tables[name]), columns);
  }
  return out;
}

/** Writes every table to `<dir>/<table>.parquet` in canonical order and digests it. */
export function writeTables(dir: string, tables: OutputTables, indicatorColumns: readonly string[], tableNames: readonly TableName[]): Record<string, TableResult> {
  const out: Record<string, TableResult> = {};
  for (const name of tableNames) {
    const columns = tableColumns(name, indicatorColumns);
    const rows = canonicalRows(name, tables[name]);
    const file = path.join(dir, `${name}.parquet`);
    writeParquet(file, columns, rows, { table: name, format: 'tapedeck.out.v1' });
    out[name] = { rows: rows.length, sha256: digestRows(rows, columns), file: path.basename(file) };
  }
  return out;
}
