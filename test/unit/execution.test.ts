/**
 * Simulated execution, pinned on hand-made event sequences (given events, when an order,
 * then these fills): fees, latency, partial fills of limit orders against trade sizes,
 * quotes' displayed sizes, and no look-ahead.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXECUTION, Execution, type ExecutionConfig } from '../../strategies/execution.ts';
import { equitySvg } from '../../strategies/report.ts';
import { makePipeline } from '../../strategies/runner.ts';
import { shown, thrown } from '../../strategies/shown.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import type { EquityRow } from '../../src/engine/rows.ts';
import { TapedeckError } from '../../src/errors.ts';
import type { Quote, Trade } from '../../src/market/events.ts';

const CFG: ExecutionConfig = {
  takerFeeBps: { binance: 10 }, makerFeeBps: { binance: 2 }, defaultTakerBps: 10, defaultMakerBps: 10, latencyMs: 100, initialCash: 10_000,
};
const MS = 1_000_000n;
let seq = 0;
const at = () => ({ session: 's', ingestSeq: ++seq });
const quote = (ms: number, bid: number, ask: number, bidSize = 1, askSize = 1): Quote =>
  ({ type: 'quote', exchange: 'binance', symbol: 'BTCUSDT', recvNs: BigInt(ms) * MS, at: at(), bid, ask, bidSize, askSize, tsUs: undefined });
const trade = (ms: number, price: number, size: number): Trade =>
  ({ type: 'trade', exchange: 'binance', symbol: 'BTCUSDT', recvNs: BigInt(ms) * MS, at: at(), tradeId: BigInt(seq), price, size, side: 'sell', tsUs: ms * 1000 });

describe('simulated execution', () => {
  it('fills a market buy at the ask of the first quote after the latency, with the taker fee', () => {
    const x = new Execution(CFG);
    const decidedOn = quote(1_000, 99, 100);
    x.place({ exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', size: 0.5, type: 'market' }, decidedOn.at, decidedOn.recvNs);
    expect(x.onQuote(quote(1_050, 99, 100)), 'still in flight (100 ms latency)').toEqual([]);
    const [f] = x.onQuote(quote(1_100, 100, 101));
    expect(f).toMatchObject({ price: 101, size: 0.5, liquidity: 'taker', done: true });
    expect(f!.fee).toBeCloseTo(101 * 0.5 * 0.001, 12);
    expect(x.position('binance', 'BTCUSDT')).toBe(0.5);
    expect(x.cash('binance')).toBeCloseTo(-(101 * 0.5) - f!.fee, 9);
    expect(x.valuation().equity, 'marked at the mid 100.5').toBeCloseTo(10_000 - 50.5 - f!.fee + 0.5 * 100.5, 9);
  });

  it('never fills on the event that prompted the order, even with zero latency', () => {
    const x = new Execution({ ...CFG, latencyMs: 0 });
    const q = quote(2_000, 99, 100);
    x.place({ exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', size: 1, type: 'market' }, q.at, q.recvNs);
    expect(x.onQuote(q), 'the deciding quote itself').toEqual([]);
    expect(x.onQuote(quote(2_000, 99, 100))).toHaveLength(1);
  });

  it('takes no more than the size shown at the touch; the rest waits for the next quotes', () => {
    const x = new Execution({ ...CFG, latencyMs: 0 });
    const q = quote(0, 99, 100);
    x.place({ exchange: 'binance', symbol: 'BTCUSDT', side: 'sell', size: 3, type: 'market' }, q.at, q.recvNs);
    expect(x.onQuote(quote(1, 99, 100, 1.25, 9)).map((f) => [f.price, f.size, f.done])).toEqual([[99, 1.25, false]]);
    expect(x.onQuote(quote(2, 98, 99, 5, 9)).map((f) => [f.price, f.size, f.done])).toEqual([[98, 1.75, true]]);
    expect(x.position('binance', 'BTCUSDT')).toBe(-3);
  });

  it('fills a resting limit buy only on trades at or below it, partially, by trade size, with the maker fee', () => {
    const x = new Execution(CFG);
    const q = quote(0, 99, 100);
    x.place({ exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', size: 1, type: 'limit', price: 98 }, q.at, q.recvNs);
    expect(x.onQuote(quote(200, 98.5, 99)), 'not marketable: the ask is above the limit').toEqual([]);
    expect(x.onTrade(trade(300, 98.5, 5)), 'printed above the limit').toEqual([]);
    const [a] = x.onTrade(trade(400, 97.9, 0.3));
    expect(a).toMatchObject({ price: 98, size: 0.3, liquidity: 'maker', done: false });
    expect(a!.fee).toBeCloseTo(98 * 0.3 * 0.0002, 12);
    const [b] = x.onTrade(trade(500, 98, 2));
    expect(b).toMatchObject({ price: 98, size: 0.7, done: true });
    expect(x.onTrade(trade(600, 97, 1)), 'nothing left').toEqual([]);
    expect(x.position('binance', 'BTCUSDT')).toBeCloseTo(1, 12);
  });

  it('fills a marketable limit order as a taker at the touch, never through its limit', () => {
    const x = new Execution({ ...CFG, latencyMs: 0 });
    const q = quote(0, 99, 100);
    x.place({ exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', size: 1, type: 'limit', price: 100.5 }, q.at, q.recvNs);
    expect(x.onQuote(quote(1, 100.9, 101))).toEqual([]);
    expect(x.onQuote(quote(2, 100.1, 100.2)).map((f) => [f.price, f.liquidity])).toEqual([[100.2, 'taker']]);
  });

  it('rejects orders that make no sense', () => {
    const x = new Execution(CFG);
    const q = quote(0, 99, 100);
    expect(() => x.place({ exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', size: 0, type: 'market' }, q.at, q.recvNs)).toThrow(/positive/);
    expect(() => x.place({ exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', size: 1, type: 'limit' }, q.at, q.recvNs)).toThrow(/price/);
  });

  // A strategy is user code: each of these passed place() and failed at the end of the run,
  // after the engine's tables were written ("parquet expected number value, got 5").
  it.each([
    ['size as text', { size: '5' }, 'order size must be a positive, finite number: "5"'],
    ['size as a BigInt', { size: 10n }, 'order size must be a positive, finite number: 10n'],
    ['exchange as a number', { exchange: 42 }, 'order exchange must be a name: 42'],
    ['no exchange', { exchange: undefined }, 'order exchange must be a name: undefined'],
    ['symbol null', { symbol: null }, 'order symbol must be a name: null'],
    ['tag as an object', { tag: { a: 1 } }, 'order tag must be text: {"a":1}'],
    ['price as text on a market order', { price: '1' }, 'order price must be a positive, finite number: "1"'],
    ['price as text on a limit order', { type: 'limit', price: '1' }, 'a limit order needs a positive, finite price'],
    ['price null on a limit order', { type: 'limit', price: null }, 'a limit order needs a positive, finite price'],
  ])('rejects an order with %s', (_what, change, message) => {
    const x = new Execution(CFG);
    const q = quote(0, 99, 100);
    expect(() => x.place({ exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', size: 1, type: 'market', ...change } as never, q.at, q.recvNs)).toThrow(message);
  });

  it('rejects an order that is no object', () => {
    const q = quote(0, 99, 100);
    for (const req of [null, 5, 'buy']) expect(() => new Execution(CFG).place(req as never, q.at, q.recvNs)).toThrow('an order must be an object');
  });

  it('takes a market order that names no price or tag as null, and keeps only the order\'s own fields', () => {
    const q = quote(0, 99, 100);
    const o = new Execution(CFG).place({ exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', size: 1, type: 'market', price: null, tag: null, extra: 1 } as never, q.at, q.recvNs);
    expect(o).toMatchObject({ exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', size: 1, type: 'market', id: 1 });
    expect(o).not.toHaveProperty('price');
    expect(o).not.toHaveProperty('extra');
  });
});

describe('a strategy\'s value shown in a refusal', () => {
  it('is one line and never throws: circular objects, BigInts, symbols, NaN, functions', () => {
    const circular: Record<string, unknown> = { side: 'up', size: 1n };
    circular.self = circular;
    expect(shown(circular)).toBe('{"side":"up","size":"1n","self":"[circular]"}');
    expect(shown({ n: NaN, s: Symbol('x'), f: () => 1 })).toBe('{"n":"NaN","s":"Symbol(x)"}');
    expect(shown('a\nb')).toBe('"a\\nb"');
    expect(shown(() => {
      throw new Error('x');
    })).toBe('a function');
    const hostile = { toJSON: () => { throw new Error('no'); } };
    expect(shown(hostile)).toBe('[an object that cannot be shown]');
    expect(shown('x'.repeat(500))).toHaveLength(161);
    expect(thrown(new Error('first\nsecond'))).toBe('first');
    expect(thrown(Object.create(null))).toBe('{}');
  });
});

describe('a backtest\'s equity curve', () => {
  it('is drawn from any number of samples (Math.min(...all) overflowed the stack past ~125k: 20 days at 10 s)', () => {
    const equity: EquityRow[] = Array.from({ length: 300_000 }, (_, i) => ({
      time_ns: BigInt(i) * 10_000_000_000n, equity: 100_000 + (i === 123_456 ? -500 : i === 7 ? 900 : 0), cash: 0, position_value: 0, gross_exposure: 0, session: 's', ingest_seq: BigInt(i),
    }));
    const svg = equitySvg(equity, 'long');
    expect(svg).toMatch(/<polyline/);
    expect(svg).toContain('>100900.00</text>');
    expect(svg).toContain('>99500.00</text>');
  });
});

describe('a strategy run\'s setup', () => {
  const strategy = { name: 'mine', describe: 'm', params: {}, init: () => ({}), decide: () => ({ state: {}, orders: [] }) };
  const sink = { emit: () => undefined };
  const run = (equityIntervalMs: number, execution: unknown) => () => makePipeline(DEFAULT_CONFIG, sink, { strategy, params: {}, execution: execution as ExecutionConfig, equityIntervalMs });

  // verify takes both from a manifest, which may be hand-edited: -10000 sampled without end (GBs of memory), 0 was "Division by zero".
  it.each([-10_000, 0, 1.5, NaN, Infinity, 2 ** 60])('refuses an equity interval of %s ms before the run, in one line, exit 2', (ms) => {
    expect(run(ms, DEFAULT_EXECUTION)).toThrow(new TapedeckError(`cannot run strategy mine: its equity interval ${shown(ms)} is not a whole number of ms above 0`));
    expect(run(ms, DEFAULT_EXECUTION)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it.each([
    ['null', null, 'execution settings null are not an object'],
    ['initialCash Infinity', { ...DEFAULT_EXECUTION, initialCash: Infinity }, 'execution initialCash Infinity is not a positive, finite amount'],
    ['initialCash 0', { ...DEFAULT_EXECUTION, initialCash: 0 }, 'execution initialCash 0 is not a positive, finite amount'],
    ['latencyMs -1', { ...DEFAULT_EXECUTION, latencyMs: -1 }, 'execution latencyMs -1 is not a finite duration in ms, 0 or more'],
    ['latencyMs as text', { ...DEFAULT_EXECUTION, latencyMs: '50' }, 'execution latencyMs "50" is not a finite duration in ms, 0 or more'],
    ['a maker fee as text', { ...DEFAULT_EXECUTION, makerFeeBps: { binance: 'x' } }, 'execution makerFeeBps {"binance":"x"} is not { exchange: bps } with finite bps of 0 or more'],
    ['no defaultTakerBps', { ...DEFAULT_EXECUTION, defaultTakerBps: undefined }, 'execution defaultTakerBps undefined is not a finite number of bps, 0 or more'],
  ])('refuses execution settings with %s before the run, in one line, exit 2 ("reading \'initialCash\'" mid-run)', (_what, execution, why) => {
    expect(run(10_000, execution)).toThrow(new TapedeckError(`cannot run strategy mine: its ${why}`));
    expect(run(10_000, execution)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('takes the defaults', () => {
    expect(run(10_000, DEFAULT_EXECUTION)).not.toThrow();
  });
});
