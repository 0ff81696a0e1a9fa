/**
 * Reading LogEvents straight from fetched record bytes (kafka-records.ts): record sets
 * written by kafkajs's own RecordBatch encoder (as its producer writes them, uncompressed
 * or gzip), holding toMessages' records, read back as the very LogEvents, at their offsets;
 * a batch cut short at the end of a fetch is left for the next; what is no tapedeck record
 * is named with its offset.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOG_KINDS, type LogEvent } from '../../src/log/event.ts';
import { toMessages } from '../../src/storage/kafka.ts';
import { ByteStrings, KafkaRecordError, RecordCursor, bigDigits } from '../../src/storage/kafka-records.ts';

const require = createRequire(import.meta.url);
type Encoder = { buffer: Buffer };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (o: object) => Promise<Encoder> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: object) => Encoder;
const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };

/** One record batch of `headers`/`value` pairs from `firstOffset`, as kafkajs's producer encodes it. */
async function batch(firstOffset: number, records: { headers: Record<string, string>; value: Buffer | null }[], gzip = false): Promise<Buffer> {
  const encoded = records.map((r, i) => Record({ offsetDelta: i, key: Buffer.from('k'), value: r.value, headers: r.headers }));
  const b = await RecordBatch({ firstOffset: Long.fromNumber(firstOffset), lastOffsetDelta: records.length - 1, records: encoded, compression: gzip ? 1 : 0 });
  return b.buffer;
}

const recordOf = (ev: LogEvent) => {
  const [m] = toMessages(ev, 1);
  return { headers: m!.headers as Record<string, string>, value: m!.value as Buffer };
};

function readAll(bytes: Buffer, strings = new ByteStrings()): { ev: LogEvent; offset: number }[] {
  const cursor = new RecordCursor(bytes, 't[0]', strings);
  const out: { ev: LogEvent; offset: number }[] = [];
  for (let ev = cursor.next(); ev !== undefined; ev = cursor.next()) out.push({ ev, offset: cursor.offset });
  return out;
}

const logEvent: fc.Arbitrary<LogEvent> = fc.record({
  session: fc.constantFrom('sim-1-20240809T000000Z', 'rec-b', 'ß-∂'),
  ingestSeq: fc.maxSafeNat(),
  recvNs: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
  exchange: fc.constantFrom('binance', 'coinbase', ''),
  conn: fc.constantFrom('c1', 'binance#2', ''),
  kind: fc.constantFrom(...LOG_KINDS),
  payload: fc.string({ unit: 'binary', maxLength: 300 }),
  meta: fc.constantFrom('', 'wss://stream.binance.com:9443/ws', '1006'),
});

describe('RecordCursor', () => {
  it('reads back the LogEvents kafkajs encoded, at their offsets, whole batches only', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.array(logEvent, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 4 }),
      fc.nat({ max: 1_000_000 }), fc.boolean(), fc.nat(), async (batches, first, gzip, cut) => {
        const parts: Buffer[] = [];
        const want: { ev: LogEvent; offset: number }[] = [];
        let offset = first;
        for (const [i, events] of batches.entries()) {
          parts.push(await batch(offset, events.map(recordOf), gzip && i % 2 === 0));
          for (const ev of events) want.push({ ev, offset: offset++ });
        }
        const whole = Buffer.concat(parts);
        expect(readAll(whole)).toEqual(want);
        // A fetch cut inside the last batch: the whole batches before it, nothing of it.
        const last = parts[parts.length - 1]!;
        const short = whole.subarray(0, whole.length - 1 - (cut % last.length));
        expect(readAll(short)).toEqual(want.slice(0, want.length - batches[batches.length - 1]!.length));
      }), { numRuns: 200 });
  });

  it('gives one string to each repeating header value, at most its bound of them', async () => {
    const ev: LogEvent = { session: 's', ingestSeq: 1, recvNs: 5n, exchange: 'binance', conn: 'c', kind: 'frame', payload: '{}', meta: '' };
    const bytes = await batch(0, [1, 2, 3].map((i) => recordOf({ ...ev, ingestSeq: i })));
    const wide = new ByteStrings();
    const narrow = new ByteStrings(2);
    expect(readAll(bytes, wide).map((r) => r.ev)).toEqual([1, 2, 3].map((i) => ({ ...ev, ingestSeq: i })));
    expect(readAll(bytes, narrow).map((r) => r.ev.session)).toEqual(['s', 's', 's']);
    expect(wide.size, 'session, exchange, conn, kind: once each').toBe(4);
    expect(narrow.size).toBe(2);
  });

  it('names the offset of a record that is no LogEvent', async () => {
    const good = recordOf({ session: 's', ingestSeq: 1, recvNs: 5n, exchange: '', conn: '', kind: 'tick', payload: '', meta: '' });
    for (const [headers, what] of [
      [{}, /t\[0\]@8: not a tapedeck LogEvent record \(headers session/],
      [{ ...good.headers, ingest_seq: '1x' }, /t\[0\]@8: not a tapedeck LogEvent/],
      [{ ...good.headers, recv_ns: '' }, /t\[0\]@8: not a tapedeck LogEvent/],
      [{ ...good.headers, kind: 'frames' }, /t\[0\]@8: not a tapedeck LogEvent/],
    ] as const) {
      const bytes = await batch(7, [good, { headers, value: Buffer.from('x') }]);
      const cursor = new RecordCursor(bytes, 't[0]', new ByteStrings());
      expect(cursor.next()).toBeDefined();
      expect(() => cursor.next()).toThrow(KafkaRecordError);
      expect(() => new RecordCursor(bytes, 't[0]', new ByteStrings()).next() && readAll(bytes)).toThrow(what);
    }
  });

  it('refuses codecs it cannot read and transactions\' control batches, in one line', async () => {
    const bytes = await batch(0, [recordOf({ session: 's', ingestSeq: 1, recvNs: 5n, exchange: '', conn: '', kind: 'tick', payload: '', meta: '' })]);
    const snappy = Buffer.from(bytes);
    snappy.writeInt16BE(snappy.readInt16BE(21) | 2, 21);
    expect(() => readAll(snappy)).toThrow(/t\[0\]: records compressed with snappy \(tapedeck reads uncompressed and gzip/);
    const control = Buffer.from(bytes);
    control.writeInt16BE(control.readInt16BE(21) | 0x20, 21);
    expect(() => readAll(control)).toThrow(/t\[0\]: a transaction's control batch at offset 0/);
  });
});

describe('bigDigits', () => {
  const read = (text: string): bigint => {
    const b = Buffer.from(`x${text}y`, 'latin1');
    return bigDigits(b, 1, b.length - 1);
  };

  it('reads any decimal of 1 to 20 digits as BigInt() of its text does', () => {
    fc.assert(fc.property(fc.stringMatching(/^[0-9]{1,20}$/), (text) => read(text) === BigInt(text)), { numRuns: 20_000 });
  });

  it('is exact at the edges of its arithmetic: 2^32, 2^53, 2^63 and the largest 19-digit numbers', () => {
    const edges = [2n ** 32n, 2n ** 53n, 2n ** 62n, 2n ** 63n, 10n ** 18n, 10n ** 19n - 1n, 1_732_000_000_123_456_789n];
    for (const e of edges) {
      for (const v of [e - 1n, e, e + 1n]) expect(read(v.toString())).toBe(v);
    }
    expect(read('0000000000000000001')).toBe(1n);
  });
});
