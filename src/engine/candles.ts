/**
 * Event-time tumbling-window candles per (exchange, symbol, interval), closed by a
 * watermark: the exchange's newest event time minus the allowed lateness. A trade whose
 * window has already closed is late: it goes to the late output, never silently away.
 */
import type { Trade } from '../market/events.ts';
import { intervalName } from './config.ts';
import type { CandleRow, LateRow } from './rows.ts';

const UNITS = 1e8;

/**
 * An exact sum of quantities in 1e-8 units (exchanges quote sizes with at most 8 decimals),
 * equal whatever order the terms come in. The running sum is a double while it stays a safe
 * integer and spills into a BigInt beyond, so the common case allocates nothing.
 */
class ExactSum {
  private small = 0;
  private big = 0n;

  add(x: number): void {
    const u = Math.round(x * UNITS);
    const s = this.small + u;
    // `s` is exact whenever the true sum is a safe integer; beyond, it is past the bound.
    if (s <= Number.MAX_SAFE_INTEGER && s >= -Number.MAX_SAFE_INTEGER && Number.isSafeInteger(u)) {
      this.small = s;
    } else {
      this.big += BigInt(this.small) + BigInt(u);
      this.small = 0;
    }
  }

  /** The sum in units, as the nearest double. */
  units(): number {
    return this.big === 0n ? this.small : Number(this.big + BigInt(this.small));
  }
}

interface OpenWindow {
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: number;
  readonly intervalMs: number;
  readonly startUs: number;
  readonly endUs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** (time, id) of the trades that set open and close: by trade order, not arrival. */
  openTs: number;
  openId: bigint;
  closeTs: number;
  closeId: bigint;
  readonly volume: ExactSum;
  readonly quoteVolume: ExactSum;
  readonly buyVolume: ExactSum;
  readonly sellVolume: ExactSum;
  trades: number;
  firstId: bigint;
  lastId: bigint;
  gap: boolean;
  last: Trade;
}

/** One symbol's windows and the doubts about its trades. */
interface SymbolState {
  readonly symbol: string;
  /** Per interval (index into intervalsMs): open windows by start. */
  readonly windows: Map<number, OpenWindow>[];
  /** Per interval: the window the last trade went to (the common case needs no Map lookup). */
  readonly current: (OpenWindow | undefined)[];
  /** Per interval: end of the latest closed window; a window never closes twice. */
  readonly closedEnd: number[];
  /** Newest trade time seen (−∞ before the first). */
  lastTradeUs: number;
  /** The first trade seen: the window holding it may lack earlier, unrecorded trades. */
  firstTradeUs: number | undefined;
  /** Windows ending after this exchange time stay open (a hold), or undefined. */
  holdFrom: number | undefined;
  /** The next trade's windows must be flagged: a gap was seen before it. */
  pendingGap: boolean;
  /** Unfilled gap ids. */
  gapOpen: boolean;
  /** Not yet heard from since a disconnect. */
  awaiting: boolean;
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
  private readonly symbols = new Map<string, SymbolState>();
  /** Symbols awaited since a disconnect that traded in the event being folded: released at `settle`. */
  private readonly heard: SymbolState[] = [];
  private nextEndUs = Number.POSITIVE_INFINITY;
  private readonly names: string[];

  constructor(private readonly intervalsMs: readonly number[], private readonly maxHoldUs = Number.POSITIVE_INFINITY) {
    this.names = intervalsMs.map(intervalName);
  }

  private state(symbol: string): SymbolState {
    let s = this.symbols.get(symbol);
    if (s === undefined) {
      s = {
        symbol, windows: this.intervalsMs.map(() => new Map()), current: this.intervalsMs.map(() => undefined),
        closedEnd: this.intervalsMs.map(() => Number.NEGATIVE_INFINITY), lastTradeUs: Number.NEGATIVE_INFINITY,
        firstTradeUs: undefined, holdFrom: undefined, pendingGap: false, gapOpen: false, awaiting: false,
      };
      this.symbols.set(symbol, s);
    }
    return s;
  }

  private static held(s: SymbolState, endUs: number): boolean {
    return s.holdFrom !== undefined && endUs > s.holdFrom;
  }

  private static hold(s: SymbolState): void {
    const from = s.lastTradeUs;
    s.holdFrom = s.holdFrom === undefined ? from : Math.min(s.holdFrom, from);
  }

  private static release(s: SymbolState): void {
    if (!s.gapOpen && !s.awaiting) s.holdFrom = undefined;
  }

  private *windowsOf(s: SymbolState): Generator<OpenWindow> {
    for (const m of s.windows) yield* m.values();
  }

  /**
   * The connection dropped, or a new recorder session began: every symbol that has traded is
   * in doubt until it trades again (its first trade shows whether ids were skipped).
   */
  disconnect(): void {
    for (const s of this.symbols.values()) {
      if (s.lastTradeUs === Number.NEGATIVE_INFINITY) continue;
      s.awaiting = true;
      CandleWindows.hold(s);
    }
  }

  /** Every id the symbol's gaps left missing has arrived: its windows are whole again. */
  gapFilled(symbol: string): void {
    const s = this.state(symbol);
    for (const w of this.windowsOf(s)) w.gap = false;
    s.pendingGap = false;
    s.gapOpen = false;
    CandleWindows.release(s);
  }

  /** The recorder gave up backfilling the symbol's gap: release, and flag what was held. */
  gapAbandoned(symbol: string, flag = true): void {
    const s = this.state(symbol);
    if (flag) for (const w of this.windowsOf(s)) if (CandleWindows.held(s, w.endUs)) w.gap = true;
    s.gapOpen = false;
    s.awaiting = false;
    s.holdFrom = undefined;
  }

  /** Adds a trade to its windows; returns late rows for intervals whose window has closed. */
  add(t: Trade, watermarkUs: number): LateRow[] {
    let late: LateRow[] | undefined;
    const s = this.state(t.symbol);
    const gap = s.pendingGap;
    s.pendingGap = false;
    // Heard from again: released once the whole event is folded, so that every trade of one
    // REST body (a restart backfill) lands in the held windows, not only the first.
    if (s.awaiting && !this.heard.includes(s)) this.heard.push(s);
    if (t.tsUs > s.lastTradeUs) s.lastTradeUs = t.tsUs;
    s.firstTradeUs ??= t.tsUs;
    for (let i = 0; i < this.intervalsMs.length; i++) {
      const lenUs = this.intervalsMs[i]! * 1000;
      const startUs = Math.floor(t.tsUs / lenUs) * lenUs;
      const endUs = startUs + lenUs;
      let w = s.current[i];
      if (w === undefined || w.startUs !== startUs) w = s.windows[i]!.get(startUs);
      if (endUs <= s.closedEnd[i]! || (w === undefined && endUs <= watermarkUs && !CandleWindows.held(s, endUs))) {
        (late ??= []).push({
          exchange: t.exchange, symbol: t.symbol, interval: this.names[i]!, window_start: BigInt(startUs / 1000),
          trade_id: t.tradeId, price: t.price, size: t.size, side: t.side, ts_us: BigInt(t.tsUs),
          watermark_us: BigInt(Math.floor(watermarkUs)), session: t.at.session, ingest_seq: BigInt(t.at.ingestSeq),
        });
        continue;
      }
      if (w === undefined) {
        w = {
          exchange: t.exchange, symbol: t.symbol, interval: i, intervalMs: this.intervalsMs[i]!, startUs, endUs,
          open: t.price, high: t.price, low: t.price, close: t.price,
          openTs: t.tsUs, openId: t.tradeId, closeTs: t.tsUs, closeId: t.tradeId,
          volume: new ExactSum(), quoteVolume: new ExactSum(), buyVolume: new ExactSum(), sellVolume: new ExactSum(), trades: 0,
          firstId: t.tradeId, lastId: t.tradeId, gap: false, last: t,
        };
        s.windows[i]!.set(startUs, w);
        if (endUs < this.nextEndUs) this.nextEndUs = endUs;
      }
      s.current[i] = w;
      if (t.price > w.high) w.high = t.price;
      if (t.price < w.low) w.low = t.price;
      if (t.tsUs < w.openTs || (t.tsUs === w.openTs && t.tradeId < w.openId)) {
        w.open = t.price;
        w.openTs = t.tsUs;
        w.openId = t.tradeId;
      }
      if (!(t.tsUs < w.closeTs || (t.tsUs === w.closeTs && t.tradeId < w.closeId))) {
        w.close = t.price;
        w.closeTs = t.tsUs;
        w.closeId = t.tradeId;
      }
      w.volume.add(t.size);
      w.quoteVolume.add(t.price * t.size);
      if (t.side === 'buy') w.buyVolume.add(t.size);
      else w.sellVolume.add(t.size);
      w.trades++;
      if (t.tradeId < w.firstId) w.firstId = t.tradeId;
      if (t.tradeId > w.lastId) w.lastId = t.tradeId;
      w.gap ||= gap;
      w.last = t;
    }
    return late ?? NONE;
  }

  /** The end of one LogEvent: symbols awaited since a disconnect that traded in it are no longer in doubt. */
  settle(): void {
    if (this.heard.length === 0) return;
    for (const s of this.heard) {
      s.awaiting = false;
      CandleWindows.release(s);
    }
    this.heard.length = 0;
  }

  /** A trade-id gap on `symbol`: flag its open windows and the window of its next trade. */
  markGap(symbol: string): void {
    const s = this.state(symbol);
    // The missing trades came after the last one seen: only windows ending later can hold them.
    for (const w of this.windowsOf(s)) if (w.endUs > s.lastTradeUs) w.gap = true;
    s.pendingGap = true;
    CandleWindows.hold(s);
    s.gapOpen = true;
  }

  /**
   * Closes every window that ends at or before `watermarkUs`, in (start, interval, symbol)
   * order so that output never depends on Map iteration order.
   */
  close(watermarkUs: number, endedUs?: number): CandleRow[] {
    if (watermarkUs < this.nextEndUs) return NONE_CANDLES;
    for (const s of this.symbols.values()) {
      if (s.holdFrom !== undefined && watermarkUs - s.holdFrom > this.maxHoldUs) this.gapAbandoned(s.symbol, endedUs === undefined || s.gapOpen);
    }
    const closing: OpenWindow[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const s of this.symbols.values()) {
      for (const m of s.windows) {
        for (const w of m.values()) {
          if (w.endUs <= watermarkUs && !CandleWindows.held(s, w.endUs)) closing.push(w);
          else if (w.endUs < next) next = w.endUs;
        }
      }
    }
    this.nextEndUs = next;
    closing.sort((a, b) => a.startUs - b.startUs || a.intervalMs - b.intervalMs || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
    return closing.map((w) => {
      const s = this.symbols.get(w.symbol)!;
      s.windows[w.interval]!.delete(w.startUs);
      if (s.current[w.interval] === w) s.current[w.interval] = undefined;
      if (w.endUs > s.closedEnd[w.interval]!) s.closedEnd[w.interval] = w.endUs;
      return this.toRow(w, s.firstTradeUs, endedUs);
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

  private toRow(w: OpenWindow, firstTradeUs: number | undefined, endedUs: number | undefined): CandleRow {
    const flags: string[] = [];
    if (w.gap) flags.push('gap');
    // Trades of this symbol before its first one seen may have gone unrecorded.
    if (firstTradeUs !== undefined && w.startUs < firstTradeUs) flags.push('start');
    if (endedUs !== undefined && w.endUs > endedUs) flags.push('end');
    const volume = w.volume.units();
    const quoteVolume = w.quoteVolume.units();
    return {
      exchange: w.exchange, symbol: w.symbol, asset: '', interval: this.names[w.interval]!, window_start: BigInt(w.startUs / 1000),
      open: w.open, high: w.high, low: w.low, close: w.close,
      volume: volume / UNITS, quote_volume: quoteVolume / UNITS,
      vwap: volume > 0 ? quoteVolume / volume : w.close,
      trades: w.trades, buy_volume: w.buyVolume.units() / UNITS, sell_volume: w.sellVolume.units() / UNITS,
      first_trade_id: w.firstId, last_trade_id: w.lastId,
      complete: flags.length === 0, flags: flags.join(','),
      session: w.last.at.session, ingest_seq: BigInt(w.last.at.ingestSeq),
    };
  }
}

const NONE: LateRow[] = [];
const NONE_CANDLES: CandleRow[] = [];
