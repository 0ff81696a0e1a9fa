/**
 * Candle windows, given/when/then: a window closes once, at the watermark; a gap holds the
 * symbol's later windows open until its ids are filled; a trade for a window that has
 * already closed is late, even while a hold is on.
 */
import { describe, expect, it } from 'vitest';
import { CandleWindows } from '../../src/engine/candles.ts';
import type { Trade } from '../../src/market/events.ts';

let seq = 0;
const trade = (s: number, id: number, price = 100, symbol = 'BTCUSDT'): Trade => ({
  type: 'trade', exchange: 'binance', symbol, tradeId: BigInt(id), price, size: 1, side: 'buy', tsUs: s * 1_000_000,
  recvNs: BigInt(Math.round(s * 1e9)), at: { session: 's', ingestSeq: seq++ },
});

describe('candle windows', () => {
  it('close once the watermark passes their end, in order', () => {
    const w = new CandleWindows([1_000]);
    w.add(trade(0.2, 1), -Infinity);
    w.add(trade(1.5, 2), -Infinity);
    expect(w.close(0.9e6)).toEqual([]);
    expect(w.close(1.0e6).map((c) => [c.window_start, c.trades])).toEqual([[0n, 1]]);
    expect(w.close(1.5e6), 'never twice').toEqual([]);
  });

  it('hold windows after a gap until it is filled, then close them whole', () => {
    const w = new CandleWindows([1_000]);
    w.add(trade(0.5, 1), -Infinity);
    w.markGap('BTCUSDT');
    w.add(trade(2.5, 3), -Infinity);
    expect(w.close(5e6), 'missing trades came after 0.5 s: every window from there waits').toEqual([]);
    expect(w.add(trade(1.5, 2), 5e6), 'the backfilled trade lands in its held window').toEqual([]);
    w.gapFilled('BTCUSDT');
    expect(w.close(5e6).map((c) => [c.window_start, c.trades, c.flags])).toEqual([[0n, 1, 'start'], [1000n, 1, ''], [2000n, 1, '']]);
  });

  it('sends a trade for an already closed window to the late table, even under a hold', () => {
    const w = new CandleWindows([1_000]);
    w.add(trade(0.5, 1), -Infinity);
    w.add(trade(1.2, 2), -Infinity);
    w.close(2e6);
    w.markGap('BTCUSDT');
    const late = w.add(trade(1.1, 3), 2e6);
    expect(late.map((l) => [l.window_start, l.trade_id])).toEqual([[1000n, 3n]]);
    w.gapFilled('BTCUSDT');
    expect(w.flush(10e6).map((c) => c.window_start), 'window 1000 is not emitted a second time').toEqual([]);
  });
});
