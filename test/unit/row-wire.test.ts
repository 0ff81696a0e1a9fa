/**
 * What crosses to the import's writer thread (src/importers/row-wire.ts): every row comes
 * back field for field, its payload as the UTF-8 TextEncoder gives and its length as text,
 * whether it crossed from its text or from bytes the caller already had, across batches that
 * share one string table.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOG_KINDS, type LogEvent } from '../../src/log/event.ts';
import { RowDecoder, RowEncoder } from '../../src/importers/row-wire.ts';

const rowWith = (payload: fc.Arbitrary<string>): fc.Arbitrary<LogEvent> => fc.record({
  session: fc.constant('s'),
  ingestSeq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  recvNs: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  exchange: fc.constantFrom('binance', 'coinbase', ''),
  conn: fc.constantFrom('ws.0', 'ws.1', 'http', 'import'),
  kind: fc.constantFrom(...LOG_KINDS),
  payload,
  meta: fc.string({ maxLength: 10 }),
}) satisfies fc.Arbitrary<LogEvent>;
const ascii = fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const row = fc.oneof(rowWith(fc.string({ unit: 'binary', maxLength: 60 })), rowWith(ascii));

/**
 * Where each row's payload already is as bytes, as the import hands them over: ASCII
 * payloads picked by `pick` are laid out in "chunks" (cut where `cut` says), each after a
 * prefix like a line's receive time, in order or not; the others have none.
 */
function laidOut(rows: LogEvent[], pick: boolean[], cut: boolean[], backwards: boolean): { bytes: (Uint8Array | undefined)[]; at: number[] } {
  const bytes: (Uint8Array | undefined)[] = [];
  const at: number[] = [];
  let parts: string[] = [];
  let owners: number[] = [];
  const close = (): void => {
    if (backwards) {
      parts = parts.reverse();
      owners = owners.reverse();
    }
    let text = '';
    const where = new Map<number, number>();
    parts.forEach((p, k) => {
      text += `${k} `;
      where.set(owners[k]!, text.length);
      text += `${p}\n`;
    });
    const chunk = Buffer.from(text, 'latin1');
    for (const [i, a] of where) {
      bytes[i] = chunk;
      at[i] = a;
    }
    parts = [];
    owners = [];
  };
  rows.forEach((r, i) => {
    bytes[i] = undefined;
    at[i] = 0;
    if (!pick[i] || !/^[\x00-\x7f]*$/.test(r.payload)) return;
    if (cut[i]) close();
    parts.push(r.payload);
    owners.push(i);
  });
  close();
  return { bytes, at };
}

describe('row wire (import writer thread)', () => {
  it('gives back every row of every batch, payloads as UTF-8 with their text length, from text or from bytes given', () => {
    const enc = new TextEncoder();
    const batch = fc.array(fc.tuple(row, fc.boolean(), fc.boolean()), { maxLength: 30 });
    fc.assert(fc.property(fc.array(fc.tuple(batch, fc.boolean()), { maxLength: 4 }), (batches) => {
      const encoder = new RowEncoder();
      const decoder = new RowDecoder();
      for (const [b, backwards] of batches) {
        const rows = b.map(([r]) => r);
        const { bytes, at } = laidOut(rows, b.map(([, p]) => p), b.map(([, , c]) => c), backwards);
        const { batch, transfer } = encoder.encode(rows, bytes, at);
        expect(transfer.every((t) => t instanceof ArrayBuffer)).toBe(true);
        const got: unknown[] = [];
        decoder.decode(structuredClone(batch, { transfer }), {
          writeEncoded: (ingestSeq, recvNs, exchange, conn, kind, meta, payload, chars) => got.push({ ingestSeq, recvNs, exchange, conn, kind, meta, payload: [...payload], chars }),
        });
        expect(got).toEqual(rows.map(({ session: _, payload, ...r }) => ({ ...r, payload: [...enc.encode(payload)], chars: payload.length })));
      }
    }), { numRuns: 300 });
  });
});
