/**
 * The simulator speaks each exchange in the shapes its live adapter decodes (property): for
 * any seed, an offline session of one simulated exchange (its subscribe acks and every
 * market frame, as `record` logs them) decodes into exactly the simulated market's trades
 * and quotes, with no decode error and no unknown message; and the exchange's REST backfill
 * body for any trades decodes into those trades.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SIMULATED, exchangeSpec, makeDecoder } from '../../src/exchanges/registry.ts';
import type { LogEvent } from '../../src/log/event.ts';
import type { MarketEvent, Quote, Trade } from '../../src/market/events.ts';
import { simulateMarket, type SimQuote, type SimTrade } from '../../src/sim/market.ts';
import { restTradesBody, restTradesUrl } from '../../src/sim/rest.ts';
import { simulateSession } from '../../src/sim/session.ts';

const START = Date.UTC(2024, 7, 9, 12);
/** Exchange times the wire prints in ms (Binance `T`, Bitstamp `microtimestamp` at ms resolution); the others in µs. */
const MS_TIMES = new Set(['binance', 'bitstamp']);
/** CryptoCompare's markets without `TSNS` print whole seconds (`TS`). */
const S_TIMES = /^(Kraken|Bitstamp)~/;
const atWire = (x: string, tsUs: number, symbol = ''): number =>
  (MS_TIMES.has(x) ? Math.floor(tsUs / 1000) * 1000 : x === 'cryptocompare' && S_TIMES.test(symbol) ? Math.floor(tsUs / 1e6) * 1e6 : tsUs);
/** Exchanges with a REST trade history (CryptoCompare has none). */
const WITH_REST = SIMULATED.filter((x) => exchangeSpec(x)!.live?.backfill !== undefined);

describe('the simulator\'s wire shapes (property)', () => {
  it('covers every exchange the simulator speaks', () => {
    expect(SIMULATED).toEqual(['binance', 'bitstamp', 'coinbase', 'cryptocompare', 'kraken']);
  });

  it.each(SIMULATED)('%s: a session decodes into the simulated market, nothing unknown', (x) => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
      const o = { seed, startMs: START, durationMs: 15_000, exchanges: [x], session: 'w' };
      const decoder = makeDecoder(x)!;
      const out: MarketEvent[] = simulateSession(o).flatMap((ev) => decoder.decode(ev));
      expect(decoder.counts.errors).toBe(0);
      expect(decoder.counts.unknown).toEqual({});
      expect(out.filter((m) => m.type === 'status').length, 'the subscribe acks').toBeGreaterThan(0);
      const market = [...simulateMarket(o)];
      const trades = out.filter((m): m is Trade => m.type === 'trade');
      expect(trades.map((t) => [t.symbol, t.tradeId, t.price, t.size, t.side, t.tsUs])).toEqual(
        market.filter((e): e is SimTrade => e.kind === 'trade').map((t) => [t.symbol, BigInt(t.tradeId), t.price, t.size, t.side, atWire(x, t.tsUs, t.symbol)]),
      );
      const quotes = out.filter((m): m is Quote => m.type === 'quote');
      expect(quotes.map((q) => [q.symbol, q.bid, q.bidSize, q.ask, q.askSize])).toEqual(
        market.filter((e): e is SimQuote => e.kind === 'quote').map((q) => [q.symbol, q.bid, q.bidSize, q.ask, q.askSize]),
      );
    }), { numRuns: 10 });
  });

  it.each(WITH_REST)('%s: the REST backfill body decodes into its trades', (x) => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 40 }), (seed, n) => {
      const o = { seed, startMs: START, durationMs: 30_000, exchanges: [x] };
      const all = [...simulateMarket(o)].filter((e): e is SimTrade => e.kind === 'trade');
      const symbol = all[0]!.symbol;
      const picked = all.filter((t) => t.symbol === symbol).slice(0, n);
      const ev: LogEvent = {
        session: 'r', ingestSeq: 0, recvNs: BigInt(START + 30_000) * 1_000_000n, exchange: x, conn: 'rest', kind: 'rest',
        payload: restTradesBody(x, picked), meta: restTradesUrl(x, symbol, picked[0]!.tradeId),
      };
      const decoder = makeDecoder(x)!;
      const got = decoder.decode(ev).filter((m): m is Trade => m.type === 'trade').sort((a, b) => Number(a.tradeId - b.tradeId));
      expect(decoder.counts.errors).toBe(0);
      // Bitstamp's `date` is whole seconds.
      const at = (tsUs: number): number => (x === 'bitstamp' ? Math.floor(tsUs / 1e6) * 1e6 : atWire(x, tsUs));
      expect(got.map((t) => [t.symbol, t.tradeId, t.price, t.size, t.side, t.tsUs])).toEqual(
        picked.map((t) => [t.symbol, BigInt(t.tradeId), t.price, t.size, t.side, at(t.tsUs)]),
      );
    }), { numRuns: 20 });
  });
});
