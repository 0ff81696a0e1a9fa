/**
 * The simulator's market in real time: the seeded synthetic market, started at the wall
 * clock's now, released event by event as its exchange time comes due. Every trade is kept
 * in a per-market log, which the REST backfill endpoints serve and tests compare against.
 */
import { simulateMarket, type SimEvent, type SimOptions, type SimTrade } from '../../src/sim/market.ts';

export class MarketFeed {
  private readonly gen: Generator<SimEvent>;
  private pending: SimEvent | undefined;
  /** `exchange:symbol` → trades in id order. */
  readonly trades = new Map<string, SimTrade[]>();

  constructor(opts: Omit<SimOptions, 'startMs' | 'durationMs'> & { startMs: number }) {
    this.gen = simulateMarket({ ...opts, durationMs: 10 * 365 * 86_400_000 });
    this.pending = this.gen.next().value as SimEvent | undefined;
  }

  /** Releases every event due at or before `nowUs`, in exchange-time order. */
  *due(nowUs: number): Generator<SimEvent> {
    while (this.pending !== undefined && this.pending.tsUs <= nowUs) {
      const e = this.pending;
      this.pending = this.gen.next().value as SimEvent | undefined;
      if (e.kind === 'trade') {
        const key = `${e.exchange}:${e.symbol}`;
        let list = this.trades.get(key);
        if (list === undefined) this.trades.set(key, (list = []));
        list.push(e);
      }
      yield e;
    }
  }

  tradesOf(exchange: string, symbol: string): readonly SimTrade[] {
    return this.trades.get(`${exchange}:${symbol}`) ?? [];
  }

  lastTrade(exchange: string, symbol: string): SimTrade | undefined {
    return this.tradesOf(exchange, symbol).at(-1);
  }
}
