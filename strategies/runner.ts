/**
 * The pipeline with a strategy in it: the engine's rows and market events go to the
 * strategy in log order; its orders go to simulated execution, whose fills come back to it.
 * Orders, fills and a mark-to-market equity curve are output tables like any other, so a
 * backtest over a recording and paper trading while it was made give the same rows.
 *
 * `makePipeline` is what replay, backtest and record all fold LogEvents into.
 */
import { Engine, type EngineStats } from '../src/engine/engine.ts';
import type { EngineConfig } from '../src/engine/config.ts';
import type { ArbitrageRow, CandleRow, IndicatorRow, OutputSink, OutputTables, TableName } from '../src/engine/rows.ts';
import type { LogEvent } from '../src/log/event.ts';
import type { MarketEvent, Origin } from '../src/market/events.ts';
import { Execution, executionProblem, type ExecutionConfig, type FillRecord } from './execution.ts';
import { frozenParams } from './params.ts';
import { shown, thrown } from './shown.ts';
import type { AccountView, OrderRequest, ParamValue, Strategy, StrategyEvent } from './types.ts';
import { TapedeckError } from '../src/errors.ts';

/** A strategy that threw, answered with something that is not { state, orders }, or placed an order execution refuses. */
export class StrategyError extends TapedeckError {}

/**
 * What is wrong with a setup, or undefined. The CLI checks its options, but verify takes the
 * setup from a manifest, which may be hand-edited: an equity interval of -10000 ms sampled
 * forever (memory grew to GBs), 0 failed with "Division by zero", `execution: null` with
 * "reading 'initialCash'". Refused before the run, as bad input: one line, exit 2.
 */
export function setupProblem(s: StrategySetup): string | undefined {
  const ms = s.equityIntervalMs;
  if (!(Number.isSafeInteger(ms) && ms > 0)) return `its equity interval ${shown(ms)} is not a whole number of ms above 0`;
  const problem = executionProblem(s.execution);
  return problem === undefined ? undefined : `its ${problem}`;
}

export interface StrategySetup {
  readonly strategy: Strategy;
  /** The resolved values, as the run records them; the strategy is handed a frozen copy (`frozenParams`). */
  readonly params: Record<string, ParamValue>;
  readonly execution: ExecutionConfig;
  /** Equity is sampled each time recorded time crosses a multiple of this. */
  readonly equityIntervalMs: number;
}

export interface Pipeline {
  onLog(ev: LogEvent): void;
  finish(): void;
  readonly stats: EngineStats;
  /** The strategy's execution state, when there is a strategy. */
  readonly execution?: Execution;
}

/** `observe` sees every market event before the engine folds it (Engine's constructor). */
export function makePipeline(cfg: EngineConfig, sink: OutputSink, setup?: StrategySetup, observe?: (m: MarketEvent) => void, decoders?: Decoders): Pipeline {
  if (setup === undefined) {
    const engine = new Engine(cfg, sink, observe, decoders);
    return { onLog: (ev) => engine.onLog(ev), finish: () => engine.finish(), stats: engine.stats };
  }
  return new StrategyRunner(cfg, sink, setup, observe, decoders);
}

/** The engine's adapters by exchange (Engine's constructor). */
type Decoders = ConstructorParameters<typeof Engine>[3];

class StrategyRunner implements Pipeline {
  private readonly engine: Engine;
  readonly execution: Execution;
  private state: unknown;
  private readonly params: Readonly<Record<string, ParamValue>>;
  private current: Origin = { session: '', ingestSeq: -1 };
  private nowNs = 0n;
  private nextSampleNs: bigint | undefined;
  private readonly stepNs: bigint;
  /** What `decide` sees of the account: the read-only methods, not the Execution (whose `place` and maps a strategy could reach). */
  private readonly account: AccountView;

  constructor(cfg: EngineConfig, private readonly sink: OutputSink, private readonly s: StrategySetup, observe?: (m: MarketEvent) => void, decoders?: Decoders) {
    const problem = setupProblem(s);
    if (problem !== undefined) throw new TapedeckError(`cannot run strategy ${s.strategy.name}: ${problem}`);
    this.execution = new Execution(s.execution);
    const x = this.execution;
    this.account = Object.freeze({
      position: (exchange: string, symbol: string) => x.position(exchange, symbol),
      cash: (exchange: string) => x.cash(exchange),
      openOrders: (exchange: string, symbol: string) => x.openOrders(exchange, symbol),
    });
    this.params = frozenParams(s.params);
    try {
      this.state = s.strategy.init(this.params);
    } catch (err) {
      throw new StrategyError(`strategy ${s.strategy.name} failed before the first event: its init() threw: ${thrown(err)}`, 1);
    }
    this.stepNs = BigInt(s.equityIntervalMs) * 1_000_000n;
    // The strategy is handed the very row the table holds, frozen: a strategy that set
    // `e.candle.close = 1` changed the candles table (and the digest verify checks).
    const tee: OutputSink = {
      emit: <T extends TableName>(table: T, row: OutputTables[T][number]) => {
        sink.emit(table, row);
        if (table === 'candles') this.decide({ type: 'candle', candle: Object.freeze(row as CandleRow) });
        else if (table === 'indicators') {
          const r = row as IndicatorRow;
          Object.freeze(r.values);
          this.decide({ type: 'indicators', indicators: Object.freeze(r) });
        } else if (table === 'arbitrage') this.decide({ type: 'arbitrage', arbitrage: Object.freeze(row as ArbitrageRow) });
      },
    };
    this.engine = new Engine(cfg, tee, (m) => {
      observe?.(m);
      this.onMarket(m);
    }, decoders);
  }

  get stats(): EngineStats {
    return this.engine.stats;
  }

  onLog(ev: LogEvent): void {
    this.sample(ev.recvNs);
    this.current = { session: ev.session, ingestSeq: ev.ingestSeq };
    this.nowNs = ev.recvNs;
    this.engine.onLog(ev);
  }

  finish(): void {
    this.engine.finish();
    this.record(this.nowNs);
  }

  private onMarket(m: MarketEvent): void {
    if (m.type === 'quote') {
      this.fills(this.execution.onQuote(m));
      // The engine folds this quote after the strategy has seen it (the arbitrage detector):
      // frozen in place, as a copy of every quote would cost more.
      Object.freeze(m.at);
      this.decide({ type: 'quote', quote: Object.freeze(m) });
    } else if (m.type === 'trade') {
      this.fills(this.execution.onTrade(m));
    }
  }

  private fills(fills: readonly FillRecord[]): void {
    for (const f of fills) {
      this.sink.emit('fills', {
        order_id: BigInt(f.orderId), exchange: f.exchange, symbol: f.symbol, side: f.side, price: f.price, size: f.size,
        fee: f.fee, liquidity: f.liquidity, recv_ns: f.recvNs, session: f.at.session, ingest_seq: BigInt(f.at.ingestSeq),
      });
      // A copy with only FillEvent's fields: the record's `at` is the market event's own.
      this.decide({ type: 'fill', fill: Object.freeze({
        orderId: f.orderId, exchange: f.exchange, symbol: f.symbol, side: f.side, price: f.price, size: f.size, fee: f.fee, liquidity: f.liquidity, done: f.done,
      }) });
    }
  }

  private decide(event: StrategyEvent): void {
    let answer: unknown;
    try {
      answer = this.s.strategy.decide(event, this.state, this.params, this.account);
    } catch (err) {
      throw this.failed(`its decide() threw on a ${event.type} event: ${thrown(err)}`);
    }
    let read: { state: unknown; orders: readonly unknown[] };
    try {
      read = this.answer(answer, event);
    } catch (err) {
      // The answer is the strategy's code too (a getter, a Proxy): what reading it throws names the strategy like the rest.
      if (err instanceof StrategyError) throw err;
      throw this.failed(`reading what its decide() returned on a ${event.type} event threw: ${thrown(err)}`);
    }
    this.state = read.state;
    for (const req of read.orders) {
      let o: ReturnType<Execution['place']>;
      try {
        o = this.execution.place(req as OrderRequest, this.current, this.nowNs);
      } catch (err) {
        throw this.failed(`bad order ${shown(req)}: ${thrown(err)}`);
      }
      this.sink.emit('orders', {
        order_id: BigInt(o.id), exchange: o.exchange, symbol: o.symbol, side: o.side, type: o.type, size: o.size,
        price: o.price ?? null, tag: o.tag ?? '', recv_ns: o.placedNs, active_ns: o.activeNs,
        session: this.current.session, ingest_seq: BigInt(this.current.ingestSeq),
      });
    }
  }

  /** `state` and a copy of `orders` from decide's answer, each read once; a StrategyError when it is not { state, orders: [...] }. */
  private answer(answer: unknown, event: StrategyEvent): { state: unknown; orders: readonly unknown[] } {
    // Awaiting it would let later events overtake its orders: a decider answers at once. Its
    // rejection, if it comes, is no second failure (Node would end on it, with a stack trace).
    if (answer instanceof Promise) {
      answer.catch(() => undefined);
      throw this.failed('its decide() returned a Promise: decide must be synchronous (not async)');
    }
    const a = answer as { state?: unknown; orders?: unknown } | null;
    const orders = typeof a === 'object' && a !== null ? a.orders : undefined;
    if (!Array.isArray(orders)) throw this.failed(`its decide() returned ${shown(answer, 80)} on a ${event.type} event, not { state, orders: [...] }`);
    // A copy, so that the orders placed are the ones read here (most answers have none: no copy for them).
    return { state: a!.state, orders: orders.length === 0 ? NO_ORDERS : Array.prototype.slice.call(orders) };
  }

  /** A strategy that broke its contract stops the run: one line naming it and the event behind it (exit 1). */
  private failed(what: string): StrategyError {
    return new StrategyError(`strategy ${this.s.strategy.name} failed at ${this.current.session}:${this.current.ingestSeq}: ${what}`, 1);
  }

  /** Equity rows at every grid point that recorded time has passed. */
  private sample(recvNs: bigint): void {
    if (this.nextSampleNs === undefined) {
      this.nextSampleNs = (recvNs / this.stepNs + 1n) * this.stepNs;
      this.record(recvNs);
      return;
    }
    while (recvNs >= this.nextSampleNs) {
      this.record(this.nextSampleNs);
      this.nextSampleNs += this.stepNs;
    }
  }

  private record(timeNs: bigint): void {
    const v = this.execution.valuation();
    this.sink.emit('equity', {
      time_ns: timeNs, equity: v.equity, cash: v.cash, position_value: v.positionValue, gross_exposure: v.gross,
      session: this.current.session, ingest_seq: BigInt(this.current.ingestSeq),
    });
  }
}

const NO_ORDERS: readonly unknown[] = Object.freeze([]);
