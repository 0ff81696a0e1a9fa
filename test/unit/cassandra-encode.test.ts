/**
 * The sink's own CQL encoding (src/storage/cassandra-encode.ts) gives exactly the bytes the
 * DataStax driver's encoder gives for the same values and types, which is what lets the
 * sink hand the driver Buffers: any value of each type, nulls, and repeated values (served
 * from the encoder's memory) alike.
 */
import cassandra from 'cassandra-driver';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cqlEncoder, type CqlType } from '../../src/storage/cassandra-encode.ts';
import { utcDay } from '../../src/storage/cassandra-schema.ts';

// The driver's Encoder is exported but not typed.
const { Encoder } = cassandra as unknown as { Encoder: new (v: number, o: object) => { encode(v: unknown, type: number): Buffer | null } };
const driver = new Encoder(5, { encoding: { useBigIntAsLong: true } });
const { dataTypes } = cassandra.types;
const CODE: Record<CqlType, number> = {
  text: dataTypes.text, bigint: dataTypes.bigint, int: dataTypes.int, double: dataTypes.double,
  boolean: dataTypes.boolean, timestamp: dataTypes.timestamp, date: dataTypes.date,
};
const VALUE: Record<CqlType, fc.Arbitrary<unknown>> = {
  text: fc.oneof(fc.string(), fc.constantFrom('binance', 'BTC-USD', '1m', 'sess-1')),
  bigint: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  int: fc.integer(),
  double: fc.double(),
  boolean: fc.boolean(),
  timestamp: fc.bigInt({ min: -(2n ** 50n), max: 2n ** 50n }),
  // Days as the sink makes them, from epoch milliseconds, before and after 1970.
  date: fc.bigInt({ min: -(10n ** 13n), max: 10n ** 13n }).map(utcDay),
};
const TYPES = Object.keys(CODE) as CqlType[];

describe('CQL encoding', () => {
  it('gives the driver\'s bytes for every type, value and null', () => {
    fc.assert(fc.property(
      fc.array(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 8 }).chain((types) =>
        fc.tuple(fc.constant(types), fc.array(fc.tuple(...types.map((t) => fc.option(VALUE[t], { nil: null }))), { minLength: 1, maxLength: 4 }))),
      ([types, rows]) => {
        const encode = cqlEncoder(types);
        for (const row of rows) {
          const ours = encode(row);
          row.forEach((v, i) => {
            const want = driver.encode(v, CODE[types[i]!]);
            expect(ours[i] === null ? null : ours[i]!.toString('hex'), `${types[i]} ${String(v)}`).toBe(want === null ? null : want.toString('hex'));
          });
        }
      },
    ), { numRuns: 300 });
  });
});
