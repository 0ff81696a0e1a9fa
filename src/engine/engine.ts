/**
 * The pipeline: decode → engine, a pure synchronous fold over LogEvents. It reads no clock
 * and starts no timer; live recording and replay feed it the same events and get the same
 * rows. Everything it emits goes to an OutputSink.
 */
import type { LogEvent } from '../log/event.ts';
import type { DecodeCounts, MarketEvent, Origin, Quote, Trade } from '../market/events.ts';
import { canonicalAsset, makeDecoder, type Decoder } from '../exchanges/registry.ts';
import { carriesData } from '../exchanges/undecoded.ts';
import { ArbitrageDetector } from './arbitrage.ts';
import { CandleWindows } from './candles.ts';
import { ExchangeClock } from './clock.ts';
import type { EngineConfig } from './config.ts';
import { IndicatorSet } from './indicators.ts';
import type { CandleRow, OutputSink } from './rows.ts';

/** What the run saw, for the manifest and the summary line. */
export interface EngineStats {
  events: number;
  byKind: Record<string, number>;
  trades: number;
  quotes: number;
  gaps: number;
  late: number;
  decodeErrors: number;
  /** LogEvents of exchanges that have no adapter (yet): kept in the log, not decoded. */
  undecoded: Record<string, number>;
  /** Of those, the ones carrying exchange data (frames, REST bodies): what the warning at replay counts. */
  undecodedFrames: Record<string, number>;
  decode: Record<string, DecodeCounts>;
}

/**
 * One time order's event time and windows. An exchange is one, except an aggregator whose
 * markets are venues of their own (`<aggregator>:<Market>`): there each (market, symbol) keeps
 * its own clock, since the subscriptions of one socket are not in one time order (each
 * subscribe replays its pair's latest trades, older than what the others already sent).
 */
interface Venue {
  readonly clock: ExchangeClock;
  readonly candles: CandleWindows;
  /** The watermark before the event being folded, and that event's stamp (its number in the run; -1: none yet). */
  eventWatermarkUs: number;
  eventSeq: number;
}

interface PerExchange {
  readonly name: string;
  readonly decoder: Decoder;
  /** Its time orders: its own under its name (the only one but for an aggregator's), an aggregator's by `<venue>\0<symbol>`. */
  readonly venues: Map<string, Venue>;
  readonly own: Venue;
  /** Time orders the event being folded touched, besides the exchange's own. */
  readonly touched: Venue[];
  /** The recorder session this exchange's latest event came from ('' before the first). */
  session: string;
}

export class Engine {
  private readonly exchanges = new Map<string, PerExchange>();
  private readonly indicators = new Map<string, IndicatorSet>();
  private readonly arbitrage: ArbitrageDetector;
  /** exchange → native symbol → canonical asset (null: none). Two lookups, no key string built per quote. */
  private readonly assetOf = new Map<string, Map<string, string | null>>();
  private readonly latenessUs: number;
  private lastRecvNs = 0n;
  private lastSession = '';
  private lastSeq = -1;
  /** While an event is folded: the live connection it came on (frames only), and its exchange. */
  private frameConn: string | undefined;
  private eventExchange = '';
  readonly stats: EngineStats = {
    events: 0, byKind: Object.create(null) as Record<string, number>, trades: 0, quotes: 0, gaps: 0, late: 0, decodeErrors: 0,
    // Keyed by names from the archive: no inherited keys (an exchange called `toString` is just a name).
    undecoded: Object.create(null) as Record<string, number>, undecodedFrames: Object.create(null) as Record<string, number>,
    decode: Object.create(null) as Record<string, DecodeCounts>,
  };

  /**
   * `observe` sees every market event before the engine folds it (simulated execution
   * fills against quotes and trades there); it must not feed events back in.
   */
  constructor(
    private readonly cfg: EngineConfig, private readonly sink: OutputSink, private readonly observe?: (m: MarketEvent) => void,
    /** Each exchange's adapter (a replay's decoded-event cache hands its own: replayer/decode-cache.ts). */
    private readonly decoders: (exchange: string) => Decoder | undefined = makeDecoder,
  ) {
    this.arbitrage = new ArbitrageDetector(cfg.arbitrage);
    this.latenessUs = cfg.latenessMs * 1000;
  }

  /** Folds one LogEvent into the state; rows go to the sink as they are decided. */
  onLog(ev: LogEvent): void {
    const s = this.stats;
    s.events++;
    s.byKind[ev.kind] = (s.byKind[ev.kind] ?? 0) + 1;
    this.lastRecvNs = ev.recvNs;
    this.lastSession = ev.session;
    this.lastSeq = ev.ingestSeq;
    if (ev.kind === 'tick') {
      this.onTick(ev);
      return;
    }
    const x = this.exchange(ev.exchange);
    if (x === undefined) {
      s.undecoded[ev.exchange] = (s.undecoded[ev.exchange] ?? 0) + 1;
      if (carriesData(ev)) s.undecodedFrames[ev.exchange] = (s.undecodedFrames[ev.exchange] ?? 0) + 1;
      return;
    }
    this.sessionOf(x, ev.session);
    if (ev.kind === 'close' || ev.kind === 'open') for (const v of x.venues.values()) v.clock.forget(ev.conn);
    if (ev.kind === 'close') for (const v of x.venues.values()) v.candles.disconnect();
    if (ev.kind === 'gap') this.onRecorderGap(ev, x);
    // One event is one instant: its trades are judged late against the watermark before it
    // (a REST body's order is the exchange's, newest first on Coinbase), and windows close
    // once, after all of them.
    this.frameConn = ev.kind === 'frame' ? ev.conn : undefined;
    this.eventExchange = ev.exchange;
    // The event's stamp: events of two sessions may share an ingest_seq.
    const stamp = s.events;
    this.touch(x.own, stamp);
    for (const m of x.decoder.decode(ev)) this.onMarket(m, x, stamp);
    x.own.candles.settle();
    this.advance(x.own);
    if (x.touched.length > 0) this.settleTouched(x);
    this.timePassed(ev.recvNs);
  }

  /**
   * A new recorder session of an exchange is a disconnect: the old session's connections are
   * gone, and the trades made while no recorder ran may still come (the new session's
   * restart backfill), so every symbol is in doubt until it trades again.
   */
  private sessionOf(x: PerExchange, session: string): void {
    if (x.session === session) return;
    if (x.session !== '') {
      for (const v of x.venues.values()) {
        v.clock.forgetAll();
        v.candles.disconnect();
      }
    }
    x.session = session;
  }

  /** Opportunities whose quotes went stale end (only while one is open: nothing else can change). */
  private timePassed(nowNs: bigint): void {
    if (this.arbitrage.hasOpen) for (const r of this.arbitrage.onTime(nowNs, this.lastAt())) this.sink.emit('arbitrage', r);
  }

  private lastAt(): Origin {
    return { session: this.lastSession, ingestSeq: this.lastSeq };
  }

  /** End of input: closes every window (flagging those the input ended inside) and every opportunity. */
  finish(): void {
    for (const name of [...this.exchanges.keys()].sort()) {
      const x = this.exchanges.get(name)!;
      for (const v of this.venuesInOrder(x)) this.emitCandles(v.candles.flush(v.clock.newest));
    }
    for (const r of this.arbitrage.finish(this.lastRecvNs, this.lastAt())) this.sink.emit('arbitrage', r);
  }

  private exchange(name: string): PerExchange | undefined {
    let x = this.exchanges.get(name);
    if (x === undefined) {
      const decoder = this.decoders(name);
      if (decoder === undefined) return undefined;
      const own = this.newVenue();
      x = { name, decoder, venues: new Map([[name, own]]), own, touched: [], session: '' };
      this.exchanges.set(name, x);
      this.stats.decode[name] = decoder.counts;
    }
    return x;
  }

  private newVenue(): Venue {
    return { clock: new ExchangeClock(), candles: new CandleWindows(this.cfg.intervalsMs, this.cfg.maxHoldMs * 1000), eventWatermarkUs: Number.NEGATIVE_INFINITY, eventSeq: -1 };
  }

  /** The exchange's venues, its own first, then the others by name. */
  private venuesInOrder(x: PerExchange): Venue[] {
    return [x.own, ...[...x.venues.keys()].filter((n) => n !== x.name).sort().map((n) => x.venues.get(n)!)];
  }

  /** An aggregator's markets the event touched: their windows settle and close as the exchange's own do. */
  private settleTouched(x: PerExchange): void {
    for (const v of x.touched) {
      v.candles.settle();
      this.advance(v);
    }
    x.touched.length = 0;
  }

  /** The time order a market event is in: the exchange's own, or one (market, symbol) of an aggregator's. */
  private venueOf(x: PerExchange, m: { exchange: string; symbol: string }, seq: number): Venue {
    // Adapters name the event's own exchange with its LogEvent's string: the same object, compared at once.
    if (m.exchange === this.eventExchange || m.exchange === x.name) return x.own;
    const key = `${m.exchange}\u0000${m.symbol}`;
    let v = x.venues.get(key);
    if (v === undefined) x.venues.set(key, (v = this.newVenue()));
    if (v.eventSeq !== seq) {
      this.touch(v, seq);
      x.touched.push(v);
    }
    return v;
  }

  /** The venue's watermark before the event `seq`: what its trades are judged late against. */
  private touch(v: Venue, seq: number): void {
    v.eventSeq = seq;
    v.eventWatermarkUs = this.watermark(v);
  }

  private onTick(ev: LogEvent): void {
    // A tick with no exchange is the recorder's own clock: it moves every exchange's time.
    const names = ev.exchange === '' ? [...this.exchanges.keys()].sort() : [ev.exchange];
    for (const name of names) {
      const x = this.exchanges.get(name);
      if (x === undefined) continue;
      this.sessionOf(x, ev.session);
      for (const v of this.venuesInOrder(x)) {
        v.clock.observeTick(ev.recvNs);
        this.advance(v);
      }
    }
    this.timePassed(ev.recvNs);
  }

  private onMarket(m: MarketEvent, x: PerExchange, stamp: number): void {
    this.observe?.(m);
    switch (m.type) {
      case 'trade':
        return this.onTrade(m, this.venueOf(x, m, stamp));
      case 'quote':
        return this.onQuote(m, this.venueOf(x, m, stamp));
      case 'gap':
        this.stats.gaps++;
        this.venueOf(x, m, stamp).candles.markGap(m.symbol);
        this.sink.emit('gaps', {
          exchange: m.exchange, symbol: m.symbol, from_id: m.fromId, to_id: m.toId, missing: m.toId - m.fromId + 1n,
          reason: m.reason, recv_ns: m.recvNs, session: m.at.session, ingest_seq: BigInt(m.at.ingestSeq),
        });
        return;
      case 'gap_filled':
        this.venueOf(x, m, stamp).candles.gapFilled(m.symbol);
        return;
      case 'decode_error':
        this.stats.decodeErrors++;
        x.decoder.counts.errors++;
        this.sink.emit('decode_errors', {
          exchange: m.exchange, reason: m.reason, payload: m.payload, recv_ns: m.recvNs, session: m.at.session, ingest_seq: BigInt(m.at.ingestSeq),
        });
        return;
      case 'status':
        return;
    }
  }

  /** The recorder's word on a gap: `{"symbol":…,"status":"failed"}` means no backfill will come. */
  private onRecorderGap(ev: LogEvent, x: PerExchange): void {
    let note: { symbol?: unknown; status?: unknown };
    try {
      note = JSON.parse(ev.payload) as typeof note;
    } catch {
      return;
    }
    if (note.status === 'failed' && typeof note.symbol === 'string') x.own.candles.gapAbandoned(note.symbol);
  }

  private onTrade(t: Trade, v: Venue): void {
    this.stats.trades++;
    v.clock.observeTime(t.recvNs, t.tsUs, this.frameConn);
    for (const late of v.candles.add(t, v.eventWatermarkUs)) {
      this.stats.late++;
      this.sink.emit('late', late);
    }
  }

  private onQuote(q: Quote, v: Venue): void {
    this.stats.quotes++;
    if (q.tsUs !== undefined) v.clock.observeTime(q.recvNs, q.tsUs, this.frameConn);
    const asset = this.asset(q.exchange, q.symbol);
    if (asset === null) return;
    for (const r of this.arbitrage.onQuote(q, asset)) this.sink.emit('arbitrage', r);
  }

  private watermark(v: Venue): number {
    return v.clock.newest - this.latenessUs;
  }

  private advance(v: Venue): void {
    this.emitCandles(v.candles.close(this.watermark(v)));
  }

  private emitCandles(rows: CandleRow[]): void {
    const { smaPeriods, emaPeriods, rsiPeriod } = this.cfg;
    for (const row of rows) {
      const c = { ...row, asset: this.asset(row.exchange, row.symbol) ?? '' };
      this.sink.emit('candles', c);
      const key = `${c.exchange}\u0000${c.symbol}\u0000${c.interval}`;
      let set = this.indicators.get(key);
      if (set === undefined) this.indicators.set(key, (set = new IndicatorSet(smaPeriods, emaPeriods, rsiPeriod)));
      this.sink.emit('indicators', {
        exchange: c.exchange, symbol: c.symbol, interval: c.interval, window_start: c.window_start, close: c.close,
        values: set.update(c.close), session: c.session, ingest_seq: c.ingest_seq,
      });
    }
  }

  private asset(exchange: string, symbol: string): string | null {
    let bySymbol = this.assetOf.get(exchange);
    if (bySymbol === undefined) this.assetOf.set(exchange, (bySymbol = new Map()));
    let a = bySymbol.get(symbol);
    if (a === undefined) {
      a = canonicalAsset(exchange, symbol, this.cfg.arbitrage) ?? null;
      bySymbol.set(symbol, a);
    }
    return a;
  }
}
