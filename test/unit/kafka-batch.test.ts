/**
 * tapedeck's own RecordBatch encoding (kafka-batch.ts) and Produce request (kafka-produce.ts)
 * against kafkajs's: for any LogEvents, the Produce v3 request body is byte for byte the one
 * kafkajs's producer sends for toMessages' records (same producer id, epoch and sequences),
 * gzip batches read back the same, and kafka-records.ts reads each partition's batch back
 * as the very events that went to it, in order. CRC-32C as kafkajs computes it; sequences
 * wrap as Kafka's do.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOG_KINDS, type LogEvent } from '../../src/log/event.ts';
import { partitionsFor, toMessages } from '../../src/storage/kafka.ts';
import { BatchEncoder, crc32c } from '../../src/storage/kafka-batch.ts';
import { decodeProduce, encodeProduce, nextSequence, producerClient } from '../../src/storage/kafka-produce.ts';
import { ByteStrings, RecordCursor } from '../../src/storage/kafka-records.ts';

const require = createRequire(import.meta.url);
const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (o: object) => { encode(): Promise<{ buffer: Buffer }> };
const Long = require('kafkajs/src/utils/long.js') as { fromString(s: string): unknown };

/** Frames with and without a symbol (Binance trades go to one partition, the rest to all). */
const payload = fc.oneof(
  fc.constantFrom('BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT').map((s) => `{"stream":"${s.toLowerCase()}@trade","data":{"e":"trade","s":"${s}","p":"1.5","q":"2"}}`),
  fc.string({ unit: 'binary', maxLength: 300 }),
);
/** Receive times of one day in 2024 or 2026: millisecond timestamps of 13 digits, as recordings have. */
const recvNs = fc.bigInt({ min: 1_704_067_200_000_000_000n, max: 1_704_153_600_000_000_000n });
const logEvent: fc.Arbitrary<LogEvent> = fc.record({
  session: fc.constantFrom('sim-1-20240809T000000Z', 'rec-b', 'ß-∂'),
  ingestSeq: fc.maxSafeNat(),
  recvNs,
  exchange: fc.constantFrom('binance', 'coinbase', ''),
  conn: fc.constantFrom('c1', 'binance#2', ''),
  kind: fc.constantFrom(...LOG_KINDS),
  payload,
  meta: fc.constantFrom('', 'wss://stream.binance.com:9443/ws', '1006', 'é'.repeat(200)),
});

function readBatch(bytes: Buffer): LogEvent[] {
  const cursor = new RecordCursor(bytes, 't[0]', new ByteStrings());
  const out: LogEvent[] = [];
  for (let ev = cursor.next(); ev !== undefined; ev = cursor.next()) out.push(ev);
  return out;
}

describe('BatchEncoder', () => {
  it('writes the Produce request kafkajs writes for the same records, which read back as the events', async () => {
    const encoder = new BatchEncoder();
    await fc.assert(fc.asyncProperty(
      fc.array(logEvent, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 5 }), fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
      fc.nat({ max: 32_767 }), fc.array(fc.nat({ max: 0x7fffffff }), { minLength: 5, maxLength: 5 }),
      async (events, partitions, producerId, producerEpoch, sequences) => {
        const batches = encoder.encode(events, partitions, { producerId, producerEpoch }, sequences);
        const mine = encodeProduce('t.raw', batches, 1_000);
        const byPartition = new Map<number, ReturnType<typeof toMessages>>();
        for (const m of events.flatMap((ev) => toMessages(ev, partitions))) byPartition.set(m.partition!, [...(byPartition.get(m.partition!) ?? []), m]);
        const theirs = await produceV3({
          acks: -1, timeout: 1_000, producerId: Long.fromString(String(producerId)), producerEpoch,
          topicData: [{ topic: 't.raw', partitions: [...byPartition].sort(([a], [b]) => a - b).map(([partition, messages]) => ({ partition, firstSequence: sequences[partition], messages })) }],
        }).encode();
        expect(mine.equals(theirs.buffer), 'the same bytes as kafkajs').toBe(true);
        for (const b of batches) {
          expect(readBatch(b.bytes)).toEqual(events.filter((ev) => partitionsFor(ev, partitions).includes(b.partition)));
          expect(b.records).toBe(byPartition.get(b.partition)!.length);
        }
      }), { numRuns: 150 });
  });

  it('writes gzip batches that read back as the events', () => {
    const encoder = new BatchEncoder();
    fc.assert(fc.property(fc.array(logEvent, { minLength: 1, maxLength: 40 }), (events) => {
      const [plain] = encoder.encode(events, 1, { producerId: 7n, producerEpoch: 0 }, [0], 'none');
      const [gzip] = encoder.encode(events, 1, { producerId: 7n, producerEpoch: 0 }, [0], 'gzip');
      expect(gzip!.bytes.readInt16BE(21) & 7, 'the gzip codec in the attributes').toBe(1);
      expect(readBatch(gzip!.bytes)).toEqual(events);
      expect(readBatch(plain!.bytes)).toEqual(events);
    }), { numRuns: 50 });
  });

  it('computes CRC-32C as kafkajs does', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2_000 }), (bytes) => {
      expect(crc32c(bytes)).toBe(kafkajsCrc(Buffer.from(bytes)));
    }));
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });
});

describe('Produce', () => {
  it('reads each partition\'s error code of its topic from a Produce v3 response', () => {
    const b = Buffer.alloc(4 + 2 + 1 + 4 + 2 * 22 + 4);
    let at = b.writeInt32BE(1, 0);
    at = b.writeInt16BE(1, at);
    at += b.write('t', at);
    at = b.writeInt32BE(2, at);
    at = b.writeInt32BE(3, at);
    at = b.writeInt16BE(46, at) + 16;
    at = b.writeInt32BE(0, at);
    b.writeInt16BE(6, at);
    expect(decodeProduce(b, 't')).toEqual([{ partition: 3, errorCode: 46 }, { partition: 0, errorCode: 6 }]);
    expect(decodeProduce(b, 'u')).toEqual([]);
  });

  it('moves sequences on, wrapping past 2^31 - 1 to 0 as Kafka does', () => {
    expect(nextSequence(0, 5)).toBe(5);
    expect(nextSequence(0x7fffffff - 5, 5)).toBe(0x7fffffff);
    expect(nextSequence(0x7fffffff - 5, 6)).toBe(0);
    expect(nextSequence(0x7fffffff, 3)).toBe(2);
  });

  it('produces through tapedeck\'s own client unless TAPEDECK_KAFKA_PRODUCER says kafkajs; anything else is one line', () => {
    expect(producerClient({})).toBe('tapedeck');
    expect(producerClient({ TAPEDECK_KAFKA_PRODUCER: 'kafkajs' })).toBe('kafkajs');
    expect(() => producerClient({ TAPEDECK_KAFKA_PRODUCER: 'rdkafka' })).toThrow(/^bad TAPEDECK_KAFKA_PRODUCER "rdkafka" \(use tapedeck or kafkajs\)$/);
  });
});
