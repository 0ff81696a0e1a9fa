/**
 * Kafka routing: murmur2 is Kafka's (checked against kafkajs's copy of the Java client's
 * hash, and a value from Kafka's own UtilsTest); an asset's events share one partition on
 * every exchange; events about no symbol go to every partition; requests are cut under the byte limits.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/log/event.ts';
import { cutBatch, murmur2, partitionsFor, PRODUCE_TUNED, toMessages } from '../../src/storage/kafka.ts';

const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: string) => number;

const ev = (exchange: string, payload: string, kind: LogEvent['kind'] = 'frame', meta = ''): LogEvent =>
  ({ session: 's', ingestSeq: 3, recvNs: 1_723_161_253_937_085_768n, exchange, conn: 'c', kind, payload, meta });

describe('Kafka routing', () => {
  it('hashes like Kafka', () => {
    expect(murmur2('21')).toBe(-973932308);
    fc.assert(fc.property(fc.string(), (s) => {
      expect(murmur2(s)).toBe(kafkajsMurmur2(s));
    }));
  });

  it('puts BTCUSDT on Binance and BTC-USD on Coinbase in the same partition', () => {
    for (const n of [1, 2, 3, 4, 8, 16]) {
      const b = partitionsFor(ev('binance', '{"stream":"btcusdt@trade","data":{"s":"BTCUSDT"}}'), n);
      const c = partitionsFor(ev('coinbase', '{"type":"match","product_id":"BTC-USD"}'), n);
      const rest = partitionsFor(ev('coinbase', '[]', 'rest', 'http://x/products/BTC-USD/trades?after=5'), n);
      expect(b).toHaveLength(1);
      expect(c).toEqual(b);
      expect(rest).toEqual(b);
    }
  });

  it('sends ticks and connection events to every partition', () => {
    expect(partitionsFor(ev('', '', 'tick'), 4)).toEqual([0, 1, 2, 3]);
    expect(partitionsFor(ev('binance', '', 'close', '1006'), 3)).toEqual([0, 1, 2]);
    expect(partitionsFor(ev('binance', '{"result":null,"id":1}'), 2)).toEqual([0, 1]);
  });

  it('leaves empty headers out (kafka-records.test.ts reads such records back)', () => {
    for (const e of [ev('binance', '{"stream":"btcusdt@trade","data":{"s":"BTCUSDT"}}'), { ...ev('', '', 'tick'), conn: '' }]) {
      const [m] = toMessages(e, 2);
      expect(Object.values(m!.headers!)).not.toContain('');
    }
  });

  it('cuts requests that keep every partition under its byte limit, in order, each event once', () => {
    const event = fc.record({
      kind: fc.constantFrom<LogEvent['kind']>('frame', 'frame', 'tick'),
      symbol: fc.constantFrom('btcusdt', 'ethusdt', 'solusdt'),
      pad: fc.nat({ max: 3_000 }),
    }).map(({ kind, symbol, pad }): LogEvent => kind === 'tick'
      ? { ...ev('', '', 'tick'), conn: '' }
      : ev('binance', `{"stream":"${symbol}@trade","data":{"s":"${symbol.toUpperCase()}","p":"${'x'.repeat(pad)}"}}`));
    fc.assert(fc.property(fc.array(event, { maxLength: 300 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 50 }), (events, partitions, maxEvents) => {
      const s = { ...PRODUCE_TUNED, maxEvents, maxPartitionBytes: 8_000 };
      const out: LogEvent[] = [];
      for (let i = 0; i < events.length;) {
        const batch = cutBatch(events.slice(i), partitions, s);
        expect(batch.length).toBeGreaterThan(0);
        expect(batch.length).toBeLessThanOrEqual(maxEvents);
        if (batch.length > 1) {
          const bytes = new Array<number>(partitions).fill(0);
          for (const e of batch) for (const p of partitionsFor(e, partitions)) bytes[p]! += e.payload.length + e.session.length + e.conn.length + 128;
          expect(Math.max(...bytes)).toBeLessThanOrEqual(8_000);
        }
        out.push(...batch);
        i += batch.length;
      }
      expect(out).toEqual(events);
    }));
  });
});
