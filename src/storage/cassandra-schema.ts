/**
 * The Cassandra tables tapedeck writes, derived from the Parquet output tables
 * (`tableColumns`): the same columns, names and values, plus the partition's `day`, keyed
 * for the queries people run against them. A row's primary key is its identity in the run,
 * so writing it again (a second replay, a recorder re-sending) overwrites it with the same
 * values. Also the seeds' per-minute view `trademsgs1minutewindow`, derived from 1m candles.
 */
import type { CandleRow, TableName } from '../engine/rows.ts';
import { canonicalAsset } from '../exchanges/registry.ts';
import type { CqlType } from './cassandra-encode.ts';
import { memo } from './memo.ts';
import { tableColumns } from './outputs.ts';
import { cell, type Column, type ColumnType } from './parquet.ts';

/** The output tables that go to Cassandra (the same rows as their Parquet files). */
export const SINK_TABLES = ['candles', 'indicators', 'arbitrage'] as const satisfies readonly TableName[];
export type SinkTable = (typeof SINK_TABLES)[number];
export const VIEW_TABLE = 'trademsgs1minutewindow';
export type WrittenTable = SinkTable | typeof VIEW_TABLE;

export interface CassandraTarget {
  /** `host:port` contact points. */
  readonly hosts: string[];
  readonly keyspace: string;
  readonly localDataCenter: string;
  /** Replication factor of a keyspace tapedeck creates (an existing one is used as it is). */
  readonly replication: number;
}

/** `cassandra://host[:port][,host[:port]]/keyspace[?dc=datacenter1&rf=1]`. */
export function parseCassandraUrl(url: string): CassandraTarget {
  const usage = 'use cassandra://host:port/keyspace, e.g. cassandra://127.0.0.1:9042/tapedeck';
  const m = /^cassandra:\/\/([^/?]+)\/([^/?]*)(?:\?(.*))?$/.exec(url);
  if (!m) throw new Error(`bad Cassandra sink ${JSON.stringify(url)} (${usage})`);
  const hosts = m[1]!.split(',').map((h) => (h.includes(':') ? h : `${h}:9042`));
  for (const h of hosts) {
    const [host, port] = h.split(':');
    if (!/^[A-Za-z0-9.-]+$/.test(host!) || !/^\d+$/.test(port!) || Number(port) < 1 || Number(port) > 65535) throw new Error(`bad Cassandra host ${JSON.stringify(h)} in ${JSON.stringify(url)} (${usage})`);
  }
  const keyspace = m[2]!;
  if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(keyspace)) throw new Error(`bad Cassandra keyspace ${JSON.stringify(keyspace)} in ${JSON.stringify(url)} (a letter, then letters, digits or _; at most 48)`);
  const params = new URLSearchParams(m[3] ?? '');
  for (const k of params.keys()) if (k !== 'dc' && k !== 'rf') throw new Error(`unknown Cassandra sink option ${JSON.stringify(k)} in ${JSON.stringify(url)} (dc, rf)`);
  const rf = Number(params.get('rf') ?? '1');
  if (!Number.isInteger(rf) || rf < 1) throw new Error(`bad rf ${JSON.stringify(params.get('rf'))} in ${JSON.stringify(url)} (a replication factor of at least 1)`);
  return { hosts, keyspace: keyspace.toLowerCase(), localDataCenter: params.get('dc') ?? 'datacenter1', replication: rf };
}

const CQL_TYPE: Record<ColumnType, CqlType> = { STRING: 'text', INT64: 'bigint', INT32: 'int', DOUBLE: 'double', BOOLEAN: 'boolean', TIMESTAMP: 'timestamp' };
const KEYS: Record<SinkTable, { partition: string[]; clustering: string[]; dayOf: (row: Record<string, unknown>) => bigint }> = {
  candles: { partition: ['exchange', 'symbol', 'interval', 'day'], clustering: ['window_start'], dayOf: (r) => r.window_start as bigint },
  indicators: { partition: ['exchange', 'symbol', 'interval', 'day'], clustering: ['window_start'], dayOf: (r) => r.window_start as bigint },
  arbitrage: {
    partition: ['asset', 'day'], clustering: ['recv_ns', 'session', 'ingest_seq', 'buy_exchange', 'sell_exchange', 'event'],
    dayOf: (r) => (r.recv_ns as bigint) / 1_000_000n,
  },
};

const q = (name: string): string => `"${name}"`;

const dayName = memo((n: number) => new Date(n * 86_400_000).toISOString().slice(0, 10));
/** A UTC day, `YYYY-MM-DD`, of epoch milliseconds (CQL's `date` takes it as is). Every row asks: remembered per day. */
export function utcDay(ms: bigint): string {
  return dayName(Math.floor(Number(ms) / 86_400_000));
}

/** One table as tapedeck writes it: its columns (Parquet's, then `day`), DDL and INSERT. */
export interface TableSpec {
  readonly name: WrittenTable;
  readonly columns: readonly Column[];
  readonly partition: readonly string[];
  readonly create: string;
  readonly insert: string;
  /** The CQL type of each value `params` gives. */
  readonly types: readonly CqlType[];
  /** Values in `columns` order, then `day`. */
  params(row: Record<string, unknown>): unknown[];
}

export function tableSpec(ks: string, table: SinkTable, indicatorColumns: readonly string[]): TableSpec {
  const columns = tableColumns(table, indicatorColumns);
  const { partition, clustering, dayOf } = KEYS[table];
  const defs = [...columns.map((c) => `${q(c.name)} ${CQL_TYPE[c.type]}`), '"day" date'];
  const order = clustering.map((c) => `${q(c)} ASC`).join(', ');
  const get = getters(table, columns, indicatorColumns);
  return {
    name: table, columns, partition, types: [...columns.map((c) => CQL_TYPE[c.type]), 'date'],
    create: `CREATE TABLE IF NOT EXISTS ${ks}.${table} (${defs.join(', ')}, PRIMARY KEY ((${partition.map(q).join(', ')}), ${clustering.map(q).join(', ')})) WITH CLUSTERING ORDER BY (${order})`,
    insert: `INSERT INTO ${ks}.${table} (${[...columns.map((c) => q(c.name)), '"day"'].join(', ')}) VALUES (${[...columns, 0].map(() => '?').join(', ')})`,
    params: (row) => {
      // One array per row, filled in place: every output row passes here.
      const out = new Array<unknown>(columns.length + 1);
      for (let i = 0; i < columns.length; i++) out[i] = get[i]!(row) ?? null;
      out[columns.length] = utcDay(dayOf(row));
      return out;
    },
  };
}

/** How to read each column from a row: an indicator row keeps its values under `values`. */
function getters(table: SinkTable, columns: readonly Column[], indicatorColumns: readonly string[]): ((row: Record<string, unknown>) => unknown)[] {
  const fromValues = new Set(table === 'indicators' ? indicatorColumns : []);
  return columns.map((c) => (fromValues.has(c.name)
    ? (row: Record<string, unknown>) => (row.values as Record<string, number | null> | undefined)?.[c.name]
    : (row: Record<string, unknown>) => cell(row, c)));
}

/** A row read back: Parquet's column values again (indicator values as columns, as `canonicalRows` gives them). */
export function rowFromCassandra(columns: readonly Column[], get: (name: string) => unknown): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const c of columns) if (!c.derive) row[c.name] = get(c.name) ?? null;
  return row;
}

/**
 * The seeds' view (CryptoCompare → Spark → Cassandra): per 1-minute window, market and
 * taker direction. `market` is the exchange, `fromcoin`/`tocurrency` the pair as the
 * exchange quotes it. A candle knows each direction's quantity but not its quote volume
 * or trade count, so `BUY` and `SELL` rows carry `totalquantity` only; the `ALL` row
 * carries every figure (VWAP as `avgprice`, quote volume as `totalvol`).
 */
export function viewSpec(ks: string): Omit<TableSpec, 'columns' | 'params' | 'name'> & { name: typeof VIEW_TABLE; columns: readonly string[] } {
  const typed: [string, CqlType][] = [
    ['date', 'date'], ['window_start', 'timestamp'], ['window_end', 'timestamp'], ['market', 'text'], ['direction', 'text'], ['fromcoin', 'text'],
    ['tocurrency', 'text'], ['avgprice', 'double'], ['totalquantity', 'double'], ['totalvol', 'double'], ['counttxns', 'bigint'], ['symbol', 'text'],
    ['session', 'text'], ['ingest_seq', 'bigint'],
  ];
  const columns = typed.map(([c]) => c);
  return {
    name: VIEW_TABLE, columns, partition: ['date'], types: typed.map(([, t]) => t),
    create: `CREATE TABLE IF NOT EXISTS ${ks}.${VIEW_TABLE} (${typed.map(([c, t]) => `${c} ${t}`).join(', ')}, `
      + 'PRIMARY KEY ((date), window_end, window_start, direction, market, fromcoin, tocurrency)) '
      + 'WITH CLUSTERING ORDER BY (window_end DESC, window_start DESC, direction ASC, market ASC, fromcoin ASC, tocurrency ASC)',
    insert: `INSERT INTO ${ks}.${VIEW_TABLE} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
  };
}

/** `[fromcoin, tocurrency]` of a market (`exchange:symbol`), remembered: a market's every candle asks. */
const pairOf = memo((market: string): string[] => {
  const [exchange, symbol] = market.split(':') as [CandleRow['exchange'], string];
  return canonicalAsset(exchange, symbol, { usdtAsUsd: false, mapping: {} })?.split('/') ?? [symbol, ''];
});

/** The view's rows of one candle, in `viewSpec().columns` order; none unless it is a 1m candle. */
export function viewRows(c: CandleRow): unknown[][] {
  if (c.interval !== '1m') return [];
  const pair = pairOf(`${c.exchange}:${c.symbol}`);
  const base = (direction: string, avg: number | null, qty: number, vol: number | null, n: bigint | null): unknown[] => [
    utcDay(c.window_start), c.window_start, c.window_start + 60_000n, c.exchange, direction, pair[0], pair[1] ?? '',
    avg, qty, vol, n, c.symbol, c.session, c.ingest_seq,
  ];
  return [
    base('ALL', c.vwap, c.volume, c.quote_volume, BigInt(c.trades)),
    base('BUY', null, c.buy_volume, null, null),
    base('SELL', null, c.sell_volume, null, null),
  ];
}
