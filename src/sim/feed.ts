/**
 * What the simulator serves. `MarketFeed`: the seeded synthetic market, started at the wall
 * clock's now, released event by event as its exchange time comes due. `ArchiveFeed`
 * (replayer/simulator/archive-feed.ts): a recording's frames, re-served at their recorded pace. Both keep every
 * trade in a per-market log, which the REST backfill endpoints serve and tests compare against.
 */
import { MarketDecimals, marketInfo, type MarketInfo } from './markets.ts';
import { simulateMarket, type SimEvent, type SimOptions, type SimQuote, type SimTrade } from './market.ts';

/** One market's trade log, and how far its decimals have been read. */
interface MarketLog {
  /** The newest trades, in id order. */
  readonly list: SimTrade[];
  /** Trades ever added, and those of them the decimals have seen. */
  added: number;
  scanned: number;
  readonly decimals: MarketDecimals;
}

export class TradeLog {
  /** exchange → symbol → trades (two maps, not an `exchange:symbol` string made per trade). */
  protected readonly trades = new Map<string, Map<string, MarketLog>>();

  /** `keep`: the newest trades kept per market (between keep and 2×keep); all of them when undefined. */
  constructor(private readonly keep?: number) {}

  add(t: SimTrade): void {
    const markets = inner(this.trades, t.exchange);
    let log = markets.get(t.symbol);
    if (log === undefined) markets.set(t.symbol, (log = { list: [], added: 0, scanned: 0, decimals: new MarketDecimals() }));
    log.list.push(t);
    log.added++;
    if (this.keep !== undefined && log.list.length >= 2 * this.keep) log.list.splice(0, log.list.length - this.keep);
  }

  tradesOf(exchange: string, symbol: string): readonly SimTrade[] {
    return this.trades.get(exchange)?.get(symbol)?.list ?? [];
  }

  lastTrade(exchange: string, symbol: string): SimTrade | undefined {
    return this.tradesOf(exchange, symbol).at(-1);
  }

  private readonly quotes = new Map<string, Map<string, SimQuote>>();

  protected quoted(q: SimQuote): void {
    inner(this.quotes, q.exchange).set(q.symbol, q);
  }

  /** The newest best bid/offer of a market (a ticker snapshot on subscribe); none from a recording, whose playback holds its own. */
  lastQuote(exchange: string, symbol: string): SimQuote | undefined {
    return this.quotes.get(exchange)?.get(symbol);
  }

  /** Every trade kept of an exchange, market by market. */
  exchangeTrades(exchange: string): SimTrade[] {
    return [...(this.trades.get(exchange)?.values() ?? [])].flatMap((log) => log.list);
  }

  /**
   * The markets an exchange's REST metadata lists: those that have traded, with the finest
   * decimals of the trades kept at this call or seen at an earlier one. Each call reads only
   * the trades added since the last (every REST request asks, and a recorder backfilling a
   * flood asks many times a second: reading the whole log each time took the simulator's core).
   */
  markets(exchange: string): MarketInfo[] {
    const markets = this.trades.get(exchange);
    if (markets === undefined) return [];
    return [...markets.keys()].sort().map((symbol) => {
      const log = markets.get(symbol)!;
      for (let i = log.list.length - Math.min(log.added - log.scanned, log.list.length); i < log.list.length; i++) log.decimals.add(log.list[i]!);
      log.scanned = log.added;
      return marketInfo(exchange, symbol, log.decimals);
    });
  }
}

/** The map under `key`, made when missing. */
function inner<V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let m = outer.get(key);
  if (m === undefined) outer.set(key, (m = new Map()));
  return m;
}

export class MarketFeed extends TradeLog {
  private readonly gen: Generator<SimEvent>;
  private pending: SimEvent | undefined;

  constructor(opts: Omit<SimOptions, 'startMs' | 'durationMs'> & { startMs: number }, keepTrades?: number) {
    super(keepTrades);
    this.gen = simulateMarket({ ...opts, durationMs: 10 * 365 * 86_400_000 });
    this.pending = this.gen.next().value as SimEvent | undefined;
  }

  /** Releases every event due at or before `nowUs`, in exchange-time order. */
  *due(nowUs: number): Generator<SimEvent> {
    while (this.pending !== undefined && this.pending.tsUs <= nowUs) {
      const e = this.pending;
      this.pending = this.gen.next().value as SimEvent | undefined;
      if (e.kind === 'trade') this.add(e);
      else this.quoted(e);
      yield e;
    }
  }

  /** How far the next event still to release is behind `nowUs`, µs (0 when nothing due waits). */
  lagUs(nowUs: number): number {
    return this.pending === undefined ? 0 : Math.max(0, nowUs - this.pending.tsUs);
  }
}
