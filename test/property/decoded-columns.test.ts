/**
 * The decoded-event columns (src/market/decoded-columns.ts) give back what was packed:
 * every LogEvent (its payload where no adapter reads it) and every market event equal field
 * for field, in the same key order, over any cut into chunks. Inputs: what the real adapters
 * make of real and mutated frames (every shape they emit, decode errors and gaps included),
 * and arbitrary events at the edges of what the columns hold (64-bit ids, unicode and lone
 * surrogates, absent quote times, every kind of LogEvent). An adapter's answer for another
 * event than the one given last is refused, and so is an event the columns cannot hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeDecoder } from '../../src/exchanges/registry.ts';
import { LOG_KINDS, type LogEvent } from '../../src/log/event.ts';
import { DecodedPacker, DecodedUnpacker, NotAligned, NotPackable } from '../../src/market/decoded-columns.ts';
import type { MarketEvent } from '../../src/market/events.ts';
import { FRAMES } from './frames.ts';
import { mutation } from './mutations.ts';

/** A LogEvent of the replay and what its adapter made of it (undefined: it reached none). */
type Call = [LogEvent, MarketEvent[] | undefined];

/** A value with its keys in order, all the way down: toStrictEqual alone does not see key order. */
function ordered(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(ordered);
  return Object.entries(v).map(([k, x]) => [k, ordered(x)]);
}

/** Packs `calls` into chunks cut after the calls in `cuts`, and reads them back. */
function roundTrip(calls: readonly Call[], cuts: ReadonlySet<number>): Call[] {
  const packer = new DecodedPacker();
  const chunks: Uint8Array[] = [];
  calls.forEach(([ev, out], i) => {
    packer.event(ev);
    if (out !== undefined) packer.decoded(ev, out);
    if (cuts.has(i)) chunks.push(packer.pack());
  });
  if (packer.size > 0) chunks.push(packer.pack());
  const unpacker = new DecodedUnpacker();
  return chunks.flatMap((c) => {
    const { events, decoded } = unpacker.unpack(c);
    return events.map((ev, i): Call => [ev, decoded[i]]);
  });
}

/** The LogEvent as the columns keep it: the exchanges' own text (frames, REST bodies, frames sent) is not kept. */
const kept = (ev: LogEvent): LogEvent => ({ ...ev, payload: ev.kind === 'frame' || ev.kind === 'rest' || ev.kind === 'sent' ? '' : ev.payload });

function assertRoundTrip(calls: readonly Call[], cuts: ReadonlySet<number>): void {
  const back = roundTrip(calls, cuts);
  const want = calls.map(([ev, out]): Call => [kept(ev), out]);
  expect(back).toStrictEqual(want);
  expect(ordered(back)).toStrictEqual(ordered(want));
}

let seq = 0;
const frame = (exchange: string, recvNs: bigint, payload: string, session = 's1'): LogEvent =>
  ({ session, ingestSeq: seq++, recvNs, exchange, conn: 'c', kind: 'frame', payload, meta: '' });

/** What `exchange`'s adapter makes of the frames, one call each, from a fresh state. */
function decoded(exchange: string, frames: readonly [bigint, string][]): Call[] {
  const d = makeDecoder(exchange)!;
  return frames.map(([recvNs, payload]) => {
    const ev = frame(exchange, recvNs, payload);
    return [ev, d.decode(ev)];
  });
}

const cutsOf = (n: number): fc.Arbitrary<Set<number>> => fc.uniqueArray(fc.nat({ max: Math.max(0, n - 1) }), { maxLength: 6 }).map((a) => new Set(a));

describe('decoded-event columns', () => {
  it('give back what the adapters made of every real and hand-written frame, cut anywhere', () => {
    for (const [exchange, frames] of Object.entries(FRAMES)) {
      const calls = decoded(exchange, frames);
      expect(calls.some(([, out]) => out !== undefined && out.length > 0)).toBe(true);
      fc.assert(fc.property(cutsOf(calls.length), (cuts) => assertRoundTrip(calls, cuts)), { numRuns: 3 });
    }
  });

  it('give back what the adapters made of mutated frames (decode errors, odd values, gaps)', () => {
    for (const [exchange, frames] of Object.entries(FRAMES)) {
      const sample = frames.filter((_, i) => i % Math.max(1, Math.floor(frames.length / 300)) === 0);
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat({ max: sample.length - 1 }), fc.option(mutation, { nil: undefined })), { minLength: 1, maxLength: 60 }), fc.nat(), (picks, cut) => {
          const calls = decoded(exchange, picks.map(([i, m]) => [sample[i]![0], m === undefined ? sample[i]![1] : m(sample[i]![1])]));
          assertRoundTrip(calls, new Set([cut % calls.length]));
        }),
        { numRuns: 150 },
      );
    }
  });

  const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '\ud800', 'a\u0000b', '€', 'BTC-USD'));
  const id = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  const num = fc.double({ noNaN: true });
  it('hold every market event at the edges of its fields', () => {
    const arbCall = fc.tuple(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom('s1', 'another session'), fc.nat(), text, fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('trade'), ex: text, symbol: text, tradeId: id, price: num, size: num, side: fc.constantFrom('buy', 'sell'), tsUs: num }),
        fc.record({ kind: fc.constant('quote'), ex: text, symbol: text, bid: num, bidSize: num, ask: num, askSize: num, tsUs: fc.option(num, { nil: undefined }) }),
        fc.record({ kind: fc.constant('gap'), ex: text, symbol: text, fromId: id, toId: id, reason: text }),
        fc.record({ kind: fc.constant('gap_filled'), ex: text, symbol: text }),
        fc.record({ kind: fc.constant('status'), ex: text, status: fc.constantFrom('subscribed', 'error', 'shutdown', 'heartbeat', 'system'), detail: text }),
        fc.record({ kind: fc.constant('decode_error'), ex: text, reason: text, payload: text }),
      ),
      { maxLength: 4 },
    ), fc.constantFrom(...LOG_KINDS), text, text, fc.boolean());
    fc.assert(
      fc.property(fc.array(arbCall, { maxLength: 40 }), fc.nat(), (specs, cut) => {
        const calls = specs.map(([recvNs, session, ingestSeq, exchange, ms, kind, payload, meta, decoded]): Call => {
          const ev: LogEvent = { session, ingestSeq, recvNs, exchange, conn: exchange.slice(0, 3), kind, payload, meta };
          const at = { session, ingestSeq };
          const out = ms.map((m): MarketEvent => {
            const base = { exchange: m.ex, recvNs, at };
            switch (m.kind) {
              case 'trade':
                return { type: 'trade', ...base, symbol: m.symbol, tradeId: m.tradeId, price: m.price, size: m.size, side: m.side, tsUs: m.tsUs };
              case 'quote':
                return { type: 'quote', ...base, symbol: m.symbol, bid: m.bid, bidSize: m.bidSize, ask: m.ask, askSize: m.askSize, tsUs: m.tsUs };
              case 'gap':
                return { type: 'gap', ...base, symbol: m.symbol, fromId: m.fromId, toId: m.toId, reason: m.reason };
              case 'gap_filled':
                return { type: 'gap_filled', ...base, symbol: m.symbol };
              case 'status':
                return { type: 'status', status: m.status, ...base, detail: m.detail };
              case 'decode_error':
                return { type: 'decode_error', ...base, reason: m.reason, payload: m.payload };
            }
          });
          return [ev, decoded || out.length > 0 ? out : undefined];
        });
        assertRoundTrip(calls, new Set(calls.length > 0 ? [cut % calls.length] : []));
      }),
      { numRuns: 300 },
    );
  });

  it('refuse an answer for another event than the one given last, an event they cannot hold, and a chunk that is not one', () => {
    const ev = frame('binance', 1n, '{}');
    const other = frame('binance', 1n, '{}');
    const at = { session: ev.session, ingestSeq: ev.ingestSeq };
    const trade = { type: 'trade', exchange: 'binance', recvNs: 1n, at, symbol: 'X', tradeId: 1n, price: 1, size: 1, side: 'buy', tsUs: 1 } as const;
    const packer = (): DecodedPacker => {
      const p = new DecodedPacker();
      p.event(ev);
      return p;
    };
    expect(() => packer().decoded(other, [])).toThrow(NotPackable);
    const twice = packer();
    twice.decoded(ev, [trade]);
    expect(() => twice.decoded(ev, [trade])).toThrow(NotPackable);
    expect(() => packer().decoded(ev, [{ ...trade, tradeId: 2n ** 63n }])).toThrow(NotPackable);
    expect(() => packer().decoded(ev, [{ ...trade, recvNs: 2n }])).toThrow(NotPackable);
    expect(() => packer().decoded(ev, [{ ...trade, at: { ...at, session: 'other' } }])).toThrow(NotPackable);
    const good = packer();
    good.decoded(ev, [trade]);
    const bytes = good.pack();
    expect(() => new DecodedUnpacker().unpack(bytes.subarray(0, bytes.length - 1))).toThrow(NotAligned);
    expect(() => new DecodedUnpacker().unpack(new Uint8Array(3))).toThrow(NotAligned);
  });
});
