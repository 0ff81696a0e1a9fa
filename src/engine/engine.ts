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

interface PerExchange {
  readonly decoder: Decoder;
  readonly clock: ExchangeClock;
  readonly candles: CandleWindows;
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
  /** While an event is folded: the live connection it came on (frames only), and the watermark before it. */
  private frameConn: string | undefined;
  private eventWatermarkUs = Number.NEGATIVE_INFINITY;
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
  constructor(private readonly cfg: EngineConfig, private readonly sink: OutputSink, private readonly observe?: (m: MarketEvent) => void) {
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
    if (ev.kind === 'close' || ev.kind === 'open') x.clock.forget(ev.conn);
    if (ev.kind === 'close') x.candles.disconnect();
    if (ev.kind === 'gap') this.onRecorderGap(ev, x);
    // One event is one instant: its trades are judged late against the watermark before it
    // (a REST body's order is the exchange's, newest first on Coinbase), and windows close
    // once, after all of them.
    this.frameConn = ev.kind === 'frame' ? ev.conn : undefined;
    this.eventWatermarkUs = this.watermark(x);
    for (const m of x.decoder.decode(ev)) this.onMarket(m, x);
    x.candles.settle();
    this.advance(x);
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
      x.clock.forgetAll();
      x.candles.disconnect();
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
      this.emitCandles(x.candles.flush(x.clock.newest));
    }
    for (const r of this.arbitrage.finish(this.lastRecvNs, this.lastAt())) this.sink.emit('arbitrage', r);
  }

  private exchange(name: string): PerExchange | undefined {
    let x = this.exchanges.get(name);
    if (x === undefined) {
      const decoder = makeDecoder(name);
      if (decoder === undefined) return undefined;
      x = { decoder, clock: new ExchangeClock(), candles: new CandleWindows(this.cfg.intervalsMs, this.cfg.maxHoldMs * 1000), session: '' };
      this.exchanges.set(name, x);
      this.stats.decode[name] = decoder.counts;
    }
    return x;
  }

  private onTick(ev: LogEvent): void {
    // A tick with no exchange is the recorder's own clock: it moves every exchange's time.
    const names = ev.exchange === '' ? [...this.exchanges.keys()].sort() : [ev.exchange];
    for (const name of names) {
      const x = this.exchanges.get(name);
      if (x === undefined) continue;
      this.sessionOf(x, ev.session);
      x.clock.observeTick(ev.recvNs);
      this.advance(x);
    }
    this.timePassed(ev.recvNs);
  }

  private onMarket(m: MarketEvent, x: PerExchange): void {
    this.observe?.(m);
    switch (m.type) {
      case 'trade':
        return this.onTrade(m, x);
      case 'quote':
        return this.onQuote(m, x);
      case 'gap':
        this.stats.gaps++;
        x.candles.markGap(m.symbol);
        this.sink.emit('gaps', {
          exchange: m.exchange, symbol: m.symbol, from_id: m.fromId, to_id: m.toId, missing: m.toId - m.fromId + 1n,
          reason: m.reason, recv_ns: m.recvNs, session: m.at.session, ingest_seq: BigInt(m.at.ingestSeq),
        });
        return;
      case 'gap_filled':
        x.candles.gapFilled(m.symbol);
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
    if (note.status === 'failed' && typeof note.symbol === 'string') x.candles.gapAbandoned(note.symbol);
  }

  private onTrade(t: Trade, x: PerExchange): void {
    this.stats.trades++;
    x.clock.observeTime(t.recvNs, t.tsUs, this.frameConn);
    for (const late of x.candles.add(t, this.eventWatermarkUs)) {
      this.stats.late++;
      this.sink.emit('late', late);
    }
  }

  private onQuote(q: Quote, x: PerExchange): void {
    this.stats.quotes++;
    if (q.tsUs !== undefined) x.clock.observeTime(q.recvNs, q.tsUs, this.frameConn);
    const asset = this.asset(q.exchange, q.symbol);
    if (asset === null) return;
    for (const r of this.arbitrage.onQuote(q, asset)) this.sink.emit('arbitrage', r);
  }

  private watermark(x: PerExchange): number {
    return x.clock.newest - this.latenessUs;
  }

  private advance(x: PerExchange): void {
    this.emitCandles(x.candles.close(this.watermark(x)));
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
