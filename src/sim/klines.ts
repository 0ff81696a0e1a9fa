/**
 * The façade's candles (each exchange's candles route): tapedeck's own engine fold
 * (CandleWindows) over the recording's trades up to the replay's present, so a client's
 * `fetchOHLCV` equals the candles `tapedeck replay` writes for the same trades.
 */
import { CandleWindows } from '../engine/candles.ts';
import type { CandleRow } from '../engine/rows.ts';
import type { SimTrade } from './market.ts';

/** Candles of `intervalMs` of these trades (one symbol), oldest first; the last may still be forming. */
export function engineCandles(trades: readonly SimTrade[], intervalMs: number): CandleRow[] {
  const w = new CandleWindows([intervalMs]);
  for (const t of trades) {
    w.add({ type: 'trade', exchange: t.exchange, symbol: t.symbol, tradeId: BigInt(t.tradeId), price: t.price, size: t.size, side: t.side, tsUs: t.tsUs, recvNs: 0n, at: { session: '', ingestSeq: 0 } }, Number.NEGATIVE_INFINITY);
    w.settle();
  }
  return w.flush(trades.at(-1)?.tsUs ?? 0).sort((a, b) => Number(a.window_start - b.window_start));
}
