/**
 * Strategy parameters are checked where they are resolved: each value against its declared
 * range, then the strategy's rules across parameters. Before, `fast=0` traded an EMA of
 * period 0, `kind=wma` and `market=BTCUSDT` ran and never traded, `size=0` failed mid-run
 * with exit 1 and `interval=0s` with "Division by zero".
 */
import { describe, expect, it } from 'vitest';
import { sweepRuns } from '../../src/cli/backtest.ts';
import { TapedeckError } from '../../src/errors.ts';
import { arbTaker } from '../../strategies/arb-taker.ts';
import { maCross } from '../../strategies/ma-cross.ts';
import { ParamError, between, resolveParams, splitMarket, wholeFrom } from '../../strategies/params.ts';
import { BUILT_IN } from '../../strategies/registry.ts';
import { rsiReversion } from '../../strategies/rsi-reversion.ts';
import type { Strategy } from '../../strategies/types.ts';

const ma = maCross as unknown as Strategy;
const rsi = rsiReversion as unknown as Strategy;
const arb = arbTaker as unknown as Strategy;

/** What `resolveParams` throws for `overrides`, or a failed expectation when it throws nothing. */
function refusal(strategy: Strategy, overrides: Record<string, string>): ParamError {
  try {
    resolveParams(strategy, overrides);
  } catch (err) {
    return err as ParamError;
  }
  throw new Error(`${strategy.name} took ${JSON.stringify(overrides)}`);
}

describe('built-in parameter ranges', () => {
  it('declare a range for every parameter but free text, and every default is inside it', () => {
    for (const s of Object.values(BUILT_IN)) {
      for (const [k, spec] of Object.entries(s.params)) {
        // arb-taker's asset and minEdgeBps take anything (see arb-taker.ts for why).
        if (!(s.name === 'arb-taker' && (k === 'asset' || k === 'minEdgeBps'))) expect(spec.range, `${s.name} ${k} declares a range`).toBeDefined();
        expect(spec.range?.problem(spec.default), `${s.name} ${k}=${spec.default}: the default is in range`).toBeUndefined();
      }
      expect(() => resolveParams(s, {}), `${s.name}'s defaults keep its rules`).not.toThrow();
    }
  });

  it.each(([
    [ma, { fast: '0' }, 'bad ma-cross parameter fast=0 (a whole number of candles, 1 or more)'],
    [ma, { fast: '-3' }, 'bad ma-cross parameter fast=-3 (a whole number of candles, 1 or more)'],
    [ma, { fast: '2.5' }, 'bad ma-cross parameter fast=2.5 (a whole number of candles, 1 or more)'],
    [ma, { slow: '0' }, 'bad ma-cross parameter slow=0 (a whole number of candles, 1 or more)'],
    [ma, { fast: 'quick' }, 'bad ma-cross parameter fast=quick (a whole number of candles, 1 or more)'],
    [ma, { fast: ' 5' }, 'bad ma-cross parameter fast=" 5" (a whole number of candles, 1 or more)'],
    [ma, { kind: 'wma' }, 'bad ma-cross parameter kind=wma (one of sma, ema)'],
    [ma, { kind: 'EMA' }, 'bad ma-cross parameter kind=EMA (one of sma, ema)'],
    [ma, { size: '0' }, 'bad ma-cross parameter size=0 (a base quantity above 0)'],
    [ma, { size: '-1' }, 'bad ma-cross parameter size=-1 (a base quantity above 0)'],
    [ma, { interval: 'banana' }, 'bad ma-cross parameter interval=banana (a candle interval: a duration of at least 1s that divides a day, e.g. 10s, 1m, 5m)'],
    [ma, { interval: '0s' }, 'bad ma-cross parameter interval=0s (a candle interval: a duration of at least 1s that divides a day, e.g. 10s, 1m, 5m)'],
    [ma, { interval: '500ms' }, 'bad ma-cross parameter interval=500ms (a candle interval: a duration of at least 1s that divides a day, e.g. 10s, 1m, 5m)'],
    [ma, { interval: '7s' }, 'bad ma-cross parameter interval=7s (a candle interval: a duration of at least 1s that divides a day, e.g. 10s, 1m, 5m)'],
    [ma, { interval: '60s' }, 'bad ma-cross parameter interval=60s (a candle interval: a duration of at least 1s that divides a day, e.g. 10s, 1m, 5m; write 60s as 1m, the name the engine gives it)'],
    [ma, { market: 'BTCUSDT' }, 'bad ma-cross parameter market=BTCUSDT (exchange:SYMBOL, the exchange one of binance, binanceus, bitstamp, coinbase, cryptocompare, kraken or cryptocompare:<Market> with a symbol <Market>~<FSYM>~<TSYM>)'],
    [ma, { market: 'binance:' }, 'bad ma-cross parameter market=binance: (exchange:SYMBOL, the exchange one of binance, binanceus, bitstamp, coinbase, cryptocompare, kraken or cryptocompare:<Market> with a symbol <Market>~<FSYM>~<TSYM>)'],
    [ma, { market: 'binanse:BTCUSDT' }, 'bad ma-cross parameter market=binanse:BTCUSDT (exchange:SYMBOL, the exchange one of binance, binanceus, bitstamp, coinbase, cryptocompare, kraken or cryptocompare:<Market> with a symbol <Market>~<FSYM>~<TSYM>)'],
    [ma, { speed: '3' }, 'bad ma-cross parameter speed=3 (ma-cross has no parameter "speed"; it has: market, interval, kind, fast, slow, size)'],
    [ma, { constructor: '1' }, 'bad ma-cross parameter constructor=1 (ma-cross has no parameter "constructor"; it has: market, interval, kind, fast, slow, size)'],
    [rsi, { period: '1' }, 'bad rsi-reversion parameter period=1 (a whole number of candles, 2 or more)'],
    [rsi, { low: '-10' }, 'bad rsi-reversion parameter low=-10 (a number from 0 to 100)'],
    [rsi, { high: '150' }, 'bad rsi-reversion parameter high=150 (a number from 0 to 100)'],
    [rsi, { offsetBps: '10000' }, 'bad rsi-reversion parameter offsetBps=10000 (a number from 0, below 10000)'],
    [rsi, { offsetBps: '-50' }, 'bad rsi-reversion parameter offsetBps=-50 (a number from 0, below 10000)'],
    [rsi, { size: '0' }, 'bad rsi-reversion parameter size=0 (a base quantity above 0)'],
    [arb, { size: '0' }, 'bad arb-taker parameter size=0 (a base quantity above 0)'],
    [arb, { maxPosition: '-1' }, 'bad arb-taker parameter maxPosition=-1 (a base quantity above 0)'],
  ] as const).map(([s, o, m]) => [s.name, o, m, s] as const))('%s refuses %j in one line naming strategy, parameter, value and range', (_name, overrides, message, strategy) => {
    const err = refusal(strategy, overrides);
    expect(err, 'a TapedeckError: the CLI prints its message alone and exits 2').toBeInstanceOf(TapedeckError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(message);
  });

  it.each(([
    [ma, 'fast', '0', '1'], [ma, 'slow', '0', '2'], [ma, 'size', '0', '0.000001'],
    [rsi, 'period', '1', '2'], [rsi, 'low', '-0.1', '0'], [rsi, 'high', '100.1', '100'], [rsi, 'offsetBps', '10000', '9999.9'], [rsi, 'offsetBps', '-0.1', '0'],
    [arb, 'maxPosition', '0', '0.01'],
  ] as const).map(([s, k, bad, good]) => [s.name, k, bad, good, s] as const))('%s %s: refuses %s, takes %s (the edge of the range)', (_name, k, bad, good, strategy) => {
    // slow=2 needs fast below it; the rest stand alone.
    const others: Record<string, string> = k === 'slow' ? { fast: '1' } : {};
    expect(refusal(strategy, { ...others, [k]: bad }).message).toMatch(new RegExp(`^bad ${strategy.name} parameter ${k}=`));
    expect(resolveParams(strategy, { ...others, [k]: good })[k]).toBe(Number(good));
  });

  it('takes every candle interval the engine makes as the engine names it, and no other name for it', () => {
    for (const interval of ['1s', '10s', '15s', '1m', '5m', '1h', '4h', '1d']) expect(resolveParams(ma, { interval }).interval).toBe(interval);
    // Indicator rows carry the engine's name: ma-cross on interval=60s matched none and never traded.
    for (const [typed, named] of [['60s', '1m'], ['1000ms', '1s'], ['24h', '1d'], ['01m', '1m']]) {
      expect(refusal(ma, { interval: typed! }).message, `${typed} is the engine's ${named}`).toMatch(new RegExp(`; write ${typed} as ${named}, the name the engine gives it\\)$`));
    }
  });

  it('trades a market on a cryptocompare venue (cryptocompare:Kraken:Kraken~XBT~USD: the venue is the exchange the rows carry)', () => {
    const params = resolveParams(ma, { market: 'cryptocompare:Kraken:Kraken~XBT~USD', kind: 'sma' }) as Parameters<typeof maCross.decide>[2];
    // A symbol not as the adapter names it would never match a row: refused.
    expect(() => resolveParams(ma, { market: 'cryptocompare:Kraken:XBT-USD' })).toThrow(/with a symbol <Market>~<FSYM>~<TSYM>/);
    const row = (fast: number, slow: number) => ({
      type: 'indicators' as const,
      indicators: { exchange: 'cryptocompare:Kraken', symbol: 'Kraken~XBT~USD', interval: '10s', window_start: 0n, close: 1, values: { sma_5: fast, sma_20: slow }, session: 's', ingest_seq: 0n },
    });
    const flat = { position: () => 0, cash: () => 0, openOrders: () => 0 };
    const down = maCross.decide(row(1, 2), maCross.init(params), params, flat);
    const up = maCross.decide(row(3, 2), down.state, params, flat);
    expect(up.orders, 'a cross up on its market buys there').toMatchObject([{ exchange: 'cryptocompare:Kraken', symbol: 'Kraken~XBT~USD', side: 'buy' }]);
    expect(splitMarket('binance:BTCUSDT')).toEqual({ exchange: 'binance', symbol: 'BTCUSDT' });
  });
});

describe('rules across parameters', () => {
  const SLOW = 'fast must be below slow: equal periods never cross, and a fast period above the slow one trades the crossover backwards';
  const CROSSED = 'low must not be above high: an RSI between them is both oversold and overbought, a buy and a sell on alternate candles';
  it.each(([
    [ma, { fast: '20' }, `bad ma-cross parameters fast=20 slow=20 (${SLOW})`, { fast: '19' }],
    [ma, { fast: '30', slow: '10' }, `bad ma-cross parameters fast=30 slow=10 (${SLOW})`, { fast: '9', slow: '10' }],
    [rsi, { low: '70', high: '30' }, `bad rsi-reversion parameters low=70 high=30 (${CROSSED})`, { low: '50', high: '50' }],
    [rsi, { low: '80' }, `bad rsi-reversion parameters low=80 high=70 (${CROSSED})`, { low: '70' }],
    [arb, { size: '0.2' }, 'bad arb-taker parameters size=0.2 maxPosition=0.1 (size must not be above maxPosition: a leg larger than the position limit is never taken)', { size: '0.1' }],
  ] as const).map(([s, o, m, edge]) => [s.name, o, m, edge, s] as const))('%s refuses %j, naming every parameter of the rule with its value, and takes %j', (_name, overrides, message, edge, strategy) => {
    const err = refusal(strategy, overrides);
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(message);
    // The edge of the rule is a strategy (low = high = 50: buy under 50, sell over 50).
    expect(resolveParams(strategy, edge)).toMatchObject(Object.fromEntries(Object.entries(edge).map(([k, v]) => [k, Number(v)])));
  });
});

describe('a strategy of your own', () => {
  const bare: Strategy = {
    name: 'mine', describe: 'no ranges', params: { n: { default: 3, describe: 'a count' }, on: { default: true, describe: 'a switch' }, tag: { default: 'x', describe: 'free text' } },
    init: () => null, decide: (_e, state) => ({ state, orders: [] }),
  };

  it('without ranges or rules takes any value of its defaults\' types, as before', () => {
    expect(resolveParams(bare, { n: '-3.5', on: 'false', tag: 'anything at all' })).toEqual({ n: -3.5, on: false, tag: 'anything at all' });
    expect(refusal(bare, { n: 'many' }).message).toBe('bad mine parameter n=many (a number)');
    expect(refusal(bare, { on: 'yes' }).message).toBe('bad mine parameter on=yes (true or false)');
  });

  it('may declare ranges and rules with the same helpers, and they hold', () => {
    const ranged: Strategy = {
      ...bare,
      params: { lo: { default: 1, describe: 'lower', range: wholeFrom(1) }, hi: { default: 5, describe: 'upper', range: between(0, 10) } },
      rules: [{ params: ['lo', 'hi'], must: 'lo must be below hi', holds: (p) => (p.lo as number) < (p.hi as number) }],
    };
    expect(refusal(ranged, { lo: '0' }).message).toBe('bad mine parameter lo=0 (a whole number, 1 or more)');
    expect(refusal(ranged, { hi: '11' }).message).toBe('bad mine parameter hi=11 (a number from 0 to 10)');
    expect(refusal(ranged, { lo: '5' }).message).toBe('bad mine parameters lo=5 hi=5 (lo must be below hi)');
  });
});

describe('a --sweep', () => {
  it('refuses a value out of range, wherever it is in the grid', () => {
    expect(() => sweepRuns(ma, {}, { fast: ['3', '0'] })).toThrow('bad ma-cross parameter fast=0 (a whole number of candles, 1 or more)');
    expect(() => sweepRuns(ma, { kind: 'wma' }, { fast: ['3'] }), 'a --param beside the sweep is checked too').toThrow('bad ma-cross parameter kind=wma (one of sma, ema)');
  });

  it('leaves out the combinations that break a rule, and says how many', () => {
    const { runs, leftOut } = sweepRuns(ma, {}, { fast: ['5', '10', '20'], slow: ['10', '20'] });
    expect(runs.map((g) => `${g.fast}/${g.slow}`), 'only fast < slow is run').toEqual(['5/10', '5/20', '10/20']);
    expect(leftOut).toBe('--sweep leaves out 3 of 6 runs that break a ma-cross rule, e.g. fast=10 slow=10 (fast must be below slow: equal periods never cross, and a fast period above the slow one trades the crossover backwards)');
    // A rule is judged on each run: fast=30 breaks it beside the default slow=20, which no run uses.
    expect(sweepRuns(ma, { fast: '30' }, { slow: ['40', '50'] })).toEqual({ runs: [{ slow: '40' }, { slow: '50' }] });
  });

  it('refuses a grid of which every run breaks a rule', () => {
    expect(() => sweepRuns(ma, {}, { fast: ['20', '30'], slow: ['10', '20'] })).toThrow(/^every run of this --sweep breaks a ma-cross rule, e\.g\. fast=20 slow=10 \(fast must be below slow/);
  });
});
