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
import type { OutputSink, OutputTables, TableName } from '../src/engine/rows.ts';
import type { LogEvent } from '../src/log/event.ts';
import type { MarketEvent, Origin } from '../src/market/events.ts';
import { Execution, type ExecutionConfig, type FillRecord } from './execution.ts';
import { frozenParams } from './params.ts';
import { shown, thrown } from './shown.ts';
import type { ParamValue, Strategy, StrategyEvent } from './types.ts';
import { TapedeckError } from '../src/errors.ts';

/** A strategy that threw, answered with something that is not { state, orders }, or placed an order execution refuses. */
export class StrategyError extends TapedeckError {}

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

  constructor(cfg: EngineConfig, private readonly sink: OutputSink, private readonly s: StrategySetup, observe?: (m: MarketEvent) => void, decoders?: Decoders) {
    this.execution = new Execution(s.execution);
    this.params = frozenParams(s.params);
    try {
      this.state = s.strategy.init(this.params);
    } catch (err) {
      throw new StrategyError(`strategy ${s.strategy.name} failed before the first event: its init() threw: ${thrown(err)}`, 1);
    }
    this.stepNs = BigInt(s.equityIntervalMs) * 1_000_000n;
    const tee: OutputSink = {
      emit: <T extends TableName>(table: T, row: OutputTables[T][number]) => {
        sink.emit(table, row);
        if (table === 'candles') this.decide({ type: 'candle', candle: row as OutputTables['candles'][number] });
        else if (table === 'indicators') this.decide({ type: 'indicators', indicators: row as OutputTables['indicators'][number] });
        else if (table === 'arbitrage') this.decide({ type: 'arbitrage', arbitrage: row as OutputTables['arbitrage'][number] });
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
      this.decide({ type: 'quote', quote: m });
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
      this.decide({ type: 'fill', fill: f });
    }
  }

  private decide(event: StrategyEvent): void {
    let answer: ReturnType<Strategy['decide']>;
    try {
      answer = this.s.strategy.decide(event, this.state, this.params, this.execution);
    } catch (err) {
      throw this.failed(`its decide() threw on a ${event.type} event: ${thrown(err)}`);
    }
    // Awaiting it would let later events overtake its orders: a decider answers at once. Its
    // rejection, if it comes, is no second failure (Node would end on it, with a stack trace).
    if (answer instanceof Promise) {
      answer.catch(() => undefined);
      throw this.failed('its decide() returned a Promise: decide must be synchronous (not async)');
    }
    if (typeof answer !== 'object' || answer === null || !Array.isArray(answer.orders)) {
      throw this.failed(`its decide() returned ${shown(answer, 80)} on a ${event.type} event, not { state, orders: [...] }`);
    }
    this.state = answer.state;
    for (const req of answer.orders) {
      let o: ReturnType<Execution['place']>;
      try {
        o = this.execution.place(req, this.current, this.nowNs);
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
