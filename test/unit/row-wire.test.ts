/**
 * What crosses to the import's writer thread (src/importers/row-wire.ts): every row comes
 * back field for field, its payload as the UTF-8 TextEncoder gives and its length as text,
 * across batches that share one string table.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOG_KINDS, type LogEvent } from '../../src/log/event.ts';
import { RowDecoder, RowEncoder } from '../../src/importers/row-wire.ts';

const row = fc.record({
  session: fc.constant('s'),
  ingestSeq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  recvNs: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  exchange: fc.constantFrom('binance', 'coinbase', ''),
  conn: fc.constantFrom('ws.0', 'ws.1', 'http', 'import'),
  kind: fc.constantFrom(...LOG_KINDS),
  payload: fc.string({ unit: 'binary', maxLength: 60 }),
  meta: fc.string({ maxLength: 10 }),
}) satisfies fc.Arbitrary<LogEvent>;

describe('row wire (import writer thread)', () => {
  it('gives back every row of every batch, payloads as UTF-8 with their text length', () => {
    const enc = new TextEncoder();
    fc.assert(fc.property(fc.array(fc.array(row, { maxLength: 30 }), { maxLength: 4 }), (batches) => {
      const encoder = new RowEncoder();
      const decoder = new RowDecoder();
      for (const rows of batches) {
        const { batch, transfer } = encoder.encode(rows);
        expect(transfer.every((b) => b instanceof ArrayBuffer)).toBe(true);
        const got: unknown[] = [];
        decoder.decode(structuredClone(batch, { transfer }), (r, payload, chars) => got.push({ ...r, payload: [...payload], chars }));
        expect(got).toEqual(rows.map(({ session: _, payload, ...r }) => ({ ...r, payload: [...enc.encode(payload)], chars: payload.length })));
      }
    }), { numRuns: 300 });
  });
});
