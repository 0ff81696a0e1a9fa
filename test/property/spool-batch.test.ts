/**
 * A spool batch (recorder/spool-batch.ts) decodes to exactly the events encoded, whatever
 * their strings hold (any Unicode, the separators the head uses, empty strings), packed
 * (UTF-8, ZSTD) and unpacked on the way as the spool stores it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, packBatch, unpackBatch } from '../../recorder/spool-batch.ts';
import type { LogEvent, LogKind } from '../../src/log/event.ts';

// Well-formed Unicode: UTF-8 storage turns a lone surrogate into U+FFFD (SQLite's TEXT did too).
const text = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('', ' ', '\n', '1 2 3\n', '{"e":"trade"}', 'é€𝄞'));
const event = (session: string): fc.Arbitrary<Omit<LogEvent, 'ingestSeq'>> => fc.record({
  session: fc.constant(session),
  recvNs: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  exchange: text, conn: text,
  kind: fc.constantFrom<LogKind>('frame', 'open', 'close', 'error', 'sent', 'tick', 'gap', 'rest'),
  payload: text, meta: text,
});

describe('spool batches', () => {
  it('decode to the events encoded, packed and unpacked on the way', () => {
    fc.assert(fc.property(fc.array(event('s'), { maxLength: 40 }), fc.nat({ max: 2 ** 40 }), fc.nat({ max: 5 }), (evs, start, cut) => {
      const rows: LogEvent[] = evs.map((e, i) => ({ ...e, ingestSeq: start + 3 * i }));
      const from = Math.min(cut, rows.length);
      const { head, body } = unpackBatch(packBatch(encodeBatch(rows, from, rows.length)));
      expect(decodeBatch('s', head, body)).toEqual(rows.slice(from));
    }), { numRuns: 300 });
  });

  it('refuses a body its head does not account for', () => {
    const rows: LogEvent[] = [{ session: 's', ingestSeq: 0, recvNs: 1n, exchange: 'x', conn: 'x.0', kind: 'frame', payload: '{}', meta: '' }];
    const { head, body } = encodeBatch(rows, 0, 1);
    expect(() => decodeBatch('s', head, `${body}!`)).toThrow(/accounts for 11 of its body's 12/);
  });
});
