/**
 * The canonical order and digest of output tables (src/storage/outputs.ts) against their
 * definitions, written here the plain way: rows flattened (indicator values become columns),
 * stably sorted by the table's key columns compared at every step, and SHA-256 over one
 * canonical line per row. Any rows: keys tied (the emission order decides), missing and null
 * values, BigInt and number keys, indicators with and without values, enough text to cross
 * the digest's 64 KB updates.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TableName } from '../../src/engine/rows.ts';
import { canonicalLine, canonicalRows, digestRows, tableColumns } from '../../src/storage/outputs.ts';

type Row = Record<string, unknown>;

/** Each table's order as outputs.ts documents it (its key columns, first to last). */
const KEYS: Partial<Record<TableName, string[]>> = {
  candles: ['exchange', 'symbol', 'interval', 'window_start'],
  indicators: ['exchange', 'symbol', 'interval', 'window_start'],
  arbitrage: ['recv_ns', 'session', 'ingest_seq', 'asset', 'buy_exchange', 'sell_exchange', 'event'],
};

function definedOrder(table: TableName, rows: readonly Row[]): Row[] {
  const flat = rows.map((r) => {
    if (table !== 'indicators') return r;
    const { values, ...rest } = r as { values?: Record<string, number | null> };
    return { ...rest, ...values };
  });
  const cmp = (a: unknown, b: unknown): number => (a === b ? 0 : a === null || a === undefined ? -1 : b === null || b === undefined ? 1 : (a as number) < (b as number) ? -1 : 1);
  return flat.sort((a, b) => {
    for (const k of KEYS[table]!) {
      const c = cmp(a[k], b[k]);
      if (c !== 0) return c;
    }
    return 0;
  });
}

const INDICATORS = ['sma_20', 'ema_20', 'rsi_14'];
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> => fc.oneof({ weight: 6, arbitrary: a }, fc.constant(null), fc.constant(undefined));
const text = fc.oneof(fc.constantFrom('binance', 'coinbase', 'kraken', 'BTCUSDT', 'BTC-USD'), fc.string({ maxLength: 60 }));
const price = fc.double({ min: -1e9, max: 1e9, noNaN: true });
const window = fc.oneof(fc.integer({ min: 0, max: 5 }).map((i) => 1_722_470_400_000 + i * 60_000), fc.constant(null));
const origin = { session: fc.constantFrom('s1', 's2'), ingest_seq: fc.bigInt({ min: 0n, max: 5n }) };
const key = { exchange: maybe(fc.constantFrom('binance', 'coinbase')), symbol: maybe(fc.constantFrom('BTCUSDT', 'ETH-USD')), interval: maybe(fc.constantFrom('1m', '5m', '10s')), window_start: window };

const ROWS: Partial<Record<TableName, fc.Arbitrary<Row>>> = {
  candles: fc.record({ ...key, asset: text, open: price, close: price, volume: price, trades: fc.integer({ min: 0, max: 1e6 }), first_trade_id: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), complete: fc.boolean(), flags: text, ...origin }),
  indicators: fc.record({
    ...key, close: price, ...origin,
    values: fc.option(fc.dictionary(fc.constantFrom(...INDICATORS), maybe(price) as fc.Arbitrary<number | null>), { nil: undefined }),
  }, { requiredKeys: ['exchange', 'symbol', 'interval', 'window_start', 'close', 'session', 'ingest_seq'] }),
  arbitrage: fc.record({
    recv_ns: fc.bigInt({ min: 0n, max: 3n }), ...origin, asset: fc.constantFrom('BTC', 'ETH'), buy_exchange: fc.constantFrom('binance', 'kraken'),
    sell_exchange: fc.constantFrom('coinbase', 'kraken'), event: fc.constantFrom('open', 'close'), buy_ask: price, reason: text,
  }),
};

describe('output tables: canonical order and digest', () => {
  for (const table of Object.keys(ROWS) as TableName[]) {
    it(`${table}: the rows in the defined order, tied rows in the order they came, and the digest of their lines`, () => {
      // Short tables (ties likely) and long ones (past the digest's 64 KB updates).
      fc.assert(fc.property(fc.oneof(fc.array(ROWS[table]!, { maxLength: 30 }), fc.array(ROWS[table]!, { minLength: 600, maxLength: 1_500 })), (rows) => {
        // Each row tagged with where it came, so a tie's order is checked too (the tag is no column).
        const tagged = rows.map((r, i) => ({ ...r, tag: i }));
        const ours = canonicalRows(table, tagged);
        const defined = definedOrder(table, tagged);
        expect(ours.map((r) => r.tag)).toEqual(defined.map((r) => r.tag));
        expect(ours).toEqual(defined);
        const columns = tableColumns(table, INDICATORS);
        const plain = createHash('sha256');
        for (const r of defined) plain.update(`${canonicalLine(r, columns)}\n`);
        expect(digestRows(ours, columns)).toBe(plain.digest('hex'));
      }), { numRuns: 40 });
    });
  }
});
