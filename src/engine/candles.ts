/**
 * Event-time tumbling-window candles per (exchange, symbol, interval), closed by a
 * watermark: the exchange's newest event time minus the allowed lateness. A trade whose
 * window has already closed is late: it goes to the late output, never silently away.
 */
import type { Trade } from '../market/events.ts';
import { intervalName } from './config.ts';
import type { CandleRow, LateRow } from './rows.ts';

interface OpenWindow {
  readonly exchange: string;
  readonly symbol: string;
  readonly intervalMs: number;
  readonly startUs: number;
  readonly endUs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  buyVolume: number;
  sellVolume: number;
  trades: number;
  firstId: bigint;
  lastId: bigint;
  gap: boolean;
  last: Trade;
}

/** All open windows of one exchange. */
export class CandleWindows {
  private readonly byKey = new Map<string, OpenWindow>();
  /** Symbols whose next trade's window must be flagged: a gap was seen before it. */
  private readonly pendingGap = new Set<string>();
  private nextEndUs = Number.POSITIVE_INFINITY;

  constructor(private readonly intervalsMs: readonly number[]) {}

  /** Adds a trade to its windows; returns late rows for intervals whose window has closed. */
  add(t: Trade, watermarkUs: number): LateRow[] {
    const late: LateRow[] = [];
    const gap = this.pendingGap.delete(t.symbol);
    for (const intervalMs of this.intervalsMs) {
      const lenUs = intervalMs * 1000;
      const startUs = Math.floor(t.tsUs / lenUs) * lenUs;
      const endUs = startUs + lenUs;
      if (endUs <= watermarkUs) {
        late.push({
          exchange: t.exchange, symbol: t.symbol, interval: intervalName(intervalMs), window_start: BigInt(startUs / 1000),
          trade_id: t.tradeId, price: t.price, size: t.size, side: t.side, ts_us: BigInt(t.tsUs),
          watermark_us: BigInt(Math.floor(watermarkUs)), session: t.at.session, ingest_seq: BigInt(t.at.ingestSeq),
        });
        continue;
      }
      const key = `${t.symbol}\u0000${intervalMs}\u0000${startUs}`;
      let w = this.byKey.get(key);
      if (w === undefined) {
        w = {
          exchange: t.exchange, symbol: t.symbol, intervalMs, startUs, endUs,
          open: t.price, high: t.price, low: t.price, close: t.price,
          volume: 0, quoteVolume: 0, buyVolume: 0, sellVolume: 0, trades: 0,
          firstId: t.tradeId, lastId: t.tradeId, gap: false, last: t,
        };
        this.byKey.set(key, w);
        if (endUs < this.nextEndUs) this.nextEndUs = endUs;
      }
      if (t.price > w.high) w.high = t.price;
      if (t.price < w.low) w.low = t.price;
      w.close = t.price;
      w.volume += t.size;
      w.quoteVolume += t.price * t.size;
      if (t.side === 'buy') w.buyVolume += t.size;
      else w.sellVolume += t.size;
      w.trades++;
      if (t.tradeId < w.firstId) w.firstId = t.tradeId;
      if (t.tradeId > w.lastId) w.lastId = t.tradeId;
      w.gap ||= gap;
      w.last = t;
    }
    return late;
  }

  /** A trade-id gap on `symbol`: flag its open windows and the window of its next trade. */
  markGap(symbol: string): void {
    for (const w of this.byKey.values()) if (w.symbol === symbol) w.gap = true;
    this.pendingGap.add(symbol);
  }

  /**
   * Closes every window that ends at or before `watermarkUs`, in (start, interval, symbol)
   * order so that output never depends on Map iteration order.
   */
  close(watermarkUs: number, startUs: number | undefined, endedUs?: number): CandleRow[] {
    if (watermarkUs < this.nextEndUs) return [];
    const closing: [string, OpenWindow][] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.byKey) {
      if (entry[1].endUs <= watermarkUs) closing.push(entry);
      else if (entry[1].endUs < next) next = entry[1].endUs;
    }
    this.nextEndUs = next;
    closing.sort(([, a], [, b]) => a.startUs - b.startUs || a.intervalMs - b.intervalMs || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
    return closing.map(([key, w]) => {
      this.byKey.delete(key);
      return toRow(w, startUs, endedUs);
    });
  }

  /** End of input: closes everything; windows reaching past `newestUs` are flagged `end`. */
  flush(newestUs: number, startUs: number | undefined): CandleRow[] {
    return this.close(Number.POSITIVE_INFINITY, startUs, newestUs);
  }
}

function toRow(w: OpenWindow, inputStartUs: number | undefined, endedUs: number | undefined): CandleRow {
  const flags: string[] = [];
  if (w.gap) flags.push('gap');
  if (inputStartUs !== undefined && w.startUs < inputStartUs) flags.push('start');
  if (endedUs !== undefined && w.endUs > endedUs) flags.push('end');
  return {
    exchange: w.exchange, symbol: w.symbol, interval: intervalName(w.intervalMs), window_start: BigInt(w.startUs / 1000),
    open: w.open, high: w.high, low: w.low, close: w.close,
    volume: w.volume, quote_volume: w.quoteVolume, vwap: w.volume > 0 ? w.quoteVolume / w.volume : w.close,
    trades: w.trades, buy_volume: w.buyVolume, sell_volume: w.sellVolume,
    first_trade_id: w.firstId, last_trade_id: w.lastId,
    complete: flags.length === 0, flags: flags.join(','),
    session: w.last.at.session, ingest_seq: BigInt(w.last.at.ingestSeq),
  };
}
