/**
 * The simulator's REST market list (property): `TradeLog.markets`, which reads only the trades
 * added since its last call, lists what `marketsOf` finds over the trades: with every trade
 * kept, exactly `marketsOf` over all of them; with the log trimmed, `marketsOf` over every
 * trade kept at some call, whatever the interleaving of trades and calls.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TradeLog } from '../../src/sim/feed.ts';
import type { SimTrade } from '../../src/sim/market.ts';
import { marketsOf } from '../../src/sim/markets.ts';

const decimalText = fc.tuple(fc.integer({ min: 0, max: 99_999 }), fc.stringMatching(/^[0-9]{0,8}$/))
  .map(([int, frac]) => (frac === '' ? String(int) : `${int}.${frac}`));

/** A trade, or a call of `markets` (null). Recorded text exercises every decimals count. */
const step = fc.option(fc.record({
  exchange: fc.constantFrom('binance', 'coinbase'),
  symbol: fc.constantFrom('BTCUSDT', 'ETHUSDT', 'BTC-USD'),
  price: decimalText,
  size: decimalText,
}), { nil: null, freq: 4 });

function trade(s: { exchange: string; symbol: string; price: string; size: string }, id: number): SimTrade {
  return { kind: 'trade', exchange: s.exchange, symbol: s.symbol, tradeId: id, price: Number(s.price), size: Number(s.size), side: 'buy', tsUs: id, text: { price: s.price, size: s.size } };
}

describe('TradeLog.markets', () => {
  it('equals marketsOf over the trades kept at some call, read incrementally', () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 120 }), fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }), (steps, keep) => {
      const log = new TradeLog(keep);
      const all: SimTrade[] = [];
      const seen = new Map<string, SimTrade>();
      const call = (): void => {
        for (const exchange of ['binance', 'coinbase']) {
          for (const t of log.exchangeTrades(exchange)) seen.set(`${exchange} ${t.tradeId}`, t);
          const want = marketsOf(exchange, [...seen.values()].filter((t) => t.exchange === exchange));
          expect(log.markets(exchange)).toEqual(want);
          if (keep === undefined) expect(want).toEqual(marketsOf(exchange, all.filter((t) => t.exchange === exchange)));
        }
      };
      steps.forEach((s, i) => {
        if (s === null) return call();
        const t = trade(s, i);
        all.push(t);
        log.add(t);
      });
      call();
    }), { numRuns: 300 });
  });
});
