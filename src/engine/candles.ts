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
  /** (time, id) of the trades that set open and close: by trade order, not arrival. */
  openAt: [number, bigint];
  closeAt: [number, bigint];
  /** Sums in exact fixed point (1e-8 units): equal whatever order the trades came in. */
  volume: bigint;
  quoteVolume: bigint;
  buyVolume: bigint;
  sellVolume: bigint;
  trades: number;
  firstId: bigint;
  lastId: bigint;
  gap: boolean;
  last: Trade;
}

/**
 * All open windows of one exchange.
 *
 * A symbol whose trades may still be missing is *held*: its windows ending after the last
 * trade seen before the doubt do not close, so that backfilled trades land in them
 * instead of in the late table. Doubt starts at a trade-id gap (until every missing id has
 * arrived) and at a disconnect (until the symbol's first trade on the new connection
 * shows whether ids were skipped). A hold that outlives `maxHoldUs` of event time is given
 * up and its windows are flagged `gap`, so a backfill that never comes blocks nothing.
 */
export class CandleWindows {
  private readonly byKey = new Map<string, OpenWindow>();
  /** Symbols whose next trade's window must be flagged: a gap was seen before it. */
  private readonly pendingGap = new Set<string>();
  private nextEndUs = Number.POSITIVE_INFINITY;
  private readonly lastTradeUs = new Map<string, number>();
  /** Each symbol's first trade seen: the window holding it may lack earlier, unrecorded trades. */
  private readonly firstTradeUs = new Map<string, number>();
  /** symbol → windows ending after this exchange time stay open. */
  private readonly holds = new Map<string, number>();
  /** Symbols with unfilled gap ids. */
  private readonly gapOpen = new Set<string>();
  /** Symbols not yet heard from since a disconnect. */
  private readonly awaiting = new Set<string>();
  /** `symbol\0interval` → end of its latest closed window: a window never closes twice. */
  private readonly closedEnd = new Map<string, number>();

  constructor(private readonly intervalsMs: readonly number[], private readonly maxHoldUs = Number.POSITIVE_INFINITY) {}

  private held(symbol: string, endUs: number): boolean {
    const from = this.holds.get(symbol);
    return from !== undefined && endUs > from;
  }

  private hold(symbol: string): void {
    const from = this.lastTradeUs.get(symbol) ?? Number.NEGATIVE_INFINITY;
    const prev = this.holds.get(symbol);
    this.holds.set(symbol, prev === undefined ? from : Math.min(prev, from));
  }

  private release(symbol: string): void {
    if (!this.gapOpen.has(symbol) && !this.awaiting.has(symbol)) this.holds.delete(symbol);
  }

  /** The connection dropped: every symbol is in doubt until it trades again. */
  disconnect(): void {
    for (const symbol of [...this.lastTradeUs.keys()].sort()) {
      this.awaiting.add(symbol);
      this.hold(symbol);
    }
  }

  /** Every id the symbol's gaps left missing has arrived: its windows are whole again. */
  gapFilled(symbol: string): void {
    for (const w of this.byKey.values()) if (w.symbol === symbol) w.gap = false;
    this.pendingGap.delete(symbol);
    this.gapOpen.delete(symbol);
    this.release(symbol);
  }

  /** The recorder gave up backfilling the symbol's gap: release, and flag what was held. */
  gapAbandoned(symbol: string, flag = true): void {
    if (flag) for (const w of this.byKey.values()) if (w.symbol === symbol && this.held(symbol, w.endUs)) w.gap = true;
    this.gapOpen.delete(symbol);
    this.awaiting.delete(symbol);
    this.holds.delete(symbol);
  }

  /** Adds a trade to its windows; returns late rows for intervals whose window has closed. */
  add(t: Trade, watermarkUs: number): LateRow[] {
    const late: LateRow[] = [];
    const gap = this.pendingGap.delete(t.symbol);
    if (this.awaiting.delete(t.symbol)) this.release(t.symbol);
    if (t.tsUs > (this.lastTradeUs.get(t.symbol) ?? Number.NEGATIVE_INFINITY)) this.lastTradeUs.set(t.symbol, t.tsUs);
    if (!this.firstTradeUs.has(t.symbol)) this.firstTradeUs.set(t.symbol, t.tsUs);
    const size = fixed(t.size);
    const quote = fixed(t.price * t.size);
    for (const intervalMs of this.intervalsMs) {
      const lenUs = intervalMs * 1000;
      const startUs = Math.floor(t.tsUs / lenUs) * lenUs;
      const endUs = startUs + lenUs;
      const key = `${t.symbol}\u0000${intervalMs}\u0000${startUs}`;
      const closed = endUs <= (this.closedEnd.get(`${t.symbol}\u0000${intervalMs}`) ?? Number.NEGATIVE_INFINITY);
      if (closed || (endUs <= watermarkUs && !this.byKey.has(key) && !this.held(t.symbol, endUs))) {
        late.push({
          exchange: t.exchange, symbol: t.symbol, interval: intervalName(intervalMs), window_start: BigInt(startUs / 1000),
          trade_id: t.tradeId, price: t.price, size: t.size, side: t.side, ts_us: BigInt(t.tsUs),
          watermark_us: BigInt(Math.floor(watermarkUs)), session: t.at.session, ingest_seq: BigInt(t.at.ingestSeq),
        });
        continue;
      }
      let w = this.byKey.get(key);
      if (w === undefined) {
        w = {
          exchange: t.exchange, symbol: t.symbol, intervalMs, startUs, endUs,
          open: t.price, high: t.price, low: t.price, close: t.price, openAt: [t.tsUs, t.tradeId], closeAt: [t.tsUs, t.tradeId],
          volume: 0n, quoteVolume: 0n, buyVolume: 0n, sellVolume: 0n, trades: 0,
          firstId: t.tradeId, lastId: t.tradeId, gap: false, last: t,
        };
        this.byKey.set(key, w);
        if (endUs < this.nextEndUs) this.nextEndUs = endUs;
      }
      if (t.price > w.high) w.high = t.price;
      if (t.price < w.low) w.low = t.price;
      if (before(t.tsUs, t.tradeId, w.openAt)) {
        w.open = t.price;
        w.openAt = [t.tsUs, t.tradeId];
      }
      if (!before(t.tsUs, t.tradeId, w.closeAt)) {
        w.close = t.price;
        w.closeAt = [t.tsUs, t.tradeId];
      }
      w.volume += size;
      w.quoteVolume += quote;
      if (t.side === 'buy') w.buyVolume += size;
      else w.sellVolume += size;
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
    // The missing trades came after the last one seen: only windows ending later can hold them.
    const after = this.lastTradeUs.get(symbol) ?? Number.NEGATIVE_INFINITY;
    for (const w of this.byKey.values()) if (w.symbol === symbol && w.endUs > after) w.gap = true;
    this.pendingGap.add(symbol);
    this.hold(symbol);
    this.gapOpen.add(symbol);
  }

  /**
   * Closes every window that ends at or before `watermarkUs`, in (start, interval, symbol)
   * order so that output never depends on Map iteration order.
   */
  close(watermarkUs: number, endedUs?: number): CandleRow[] {
    if (watermarkUs < this.nextEndUs) return [];
    for (const [symbol, from] of [...this.holds].sort()) {
      if (watermarkUs - from > this.maxHoldUs) this.gapAbandoned(symbol, endedUs === undefined || this.gapOpen.has(symbol));
    }
    const closing: [string, OpenWindow][] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.byKey) {
      if (entry[1].endUs <= watermarkUs && !this.held(entry[1].symbol, entry[1].endUs)) closing.push(entry);
      else if (entry[1].endUs < next) next = entry[1].endUs;
    }
    this.nextEndUs = next;
    closing.sort(([, a], [, b]) => a.startUs - b.startUs || a.intervalMs - b.intervalMs || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
    return closing.map(([key, w]) => {
      this.byKey.delete(key);
      const series = `${w.symbol}\u0000${w.intervalMs}`;
      if (w.endUs > (this.closedEnd.get(series) ?? Number.NEGATIVE_INFINITY)) this.closedEnd.set(series, w.endUs);
      return toRow(w, this.firstTradeUs.get(w.symbol), endedUs);
    });
  }

  /**
   * End of input: closes everything; windows reaching past `newestUs` are flagged `end`.
   * A symbol merely unheard-from since the last disconnect (the recorder's own stop) is
   * not a gap; a gap still missing ids is.
   */
  flush(newestUs: number): CandleRow[] {
    return this.close(Number.POSITIVE_INFINITY, newestUs);
  }
}

const UNITS = 1e8;

/** A quantity in exact 1e-8 units: exchanges quote sizes with at most 8 decimals. */
function fixed(x: number): bigint {
  return BigInt(Math.round(x * UNITS));
}

function before(tsUs: number, id: bigint, at: [number, bigint]): boolean {
  return tsUs < at[0] || (tsUs === at[0] && id < at[1]);
}

function toRow(w: OpenWindow, firstTradeUs: number | undefined, endedUs: number | undefined): CandleRow {
  const flags: string[] = [];
  if (w.gap) flags.push('gap');
  // Trades of this symbol before its first one seen may have gone unrecorded.
  if (firstTradeUs !== undefined && w.startUs < firstTradeUs) flags.push('start');
  if (endedUs !== undefined && w.endUs > endedUs) flags.push('end');
  return {
    exchange: w.exchange, symbol: w.symbol, asset: '', interval: intervalName(w.intervalMs), window_start: BigInt(w.startUs / 1000),
    open: w.open, high: w.high, low: w.low, close: w.close,
    volume: Number(w.volume) / UNITS, quote_volume: Number(w.quoteVolume) / UNITS,
    vwap: w.volume > 0n ? Number(w.quoteVolume) / Number(w.volume) : w.close,
    trades: w.trades, buy_volume: Number(w.buyVolume) / UNITS, sell_volume: Number(w.sellVolume) / UNITS,
    first_trade_id: w.firstId, last_trade_id: w.lastId,
    complete: flags.length === 0, flags: flags.join(','),
    session: w.last.at.session, ingest_seq: BigInt(w.last.at.ingestSeq),
  };
}
