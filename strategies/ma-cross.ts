/**
 * Moving-average crossover, long or flat: buy `size` when the fast average crosses above
 * the slow one on a closed candle, sell the position when it crosses below. The averages
 * are the engine's own indicator columns (`ema_<fast>`, `sma_<slow>` …), so the strategy
 * asks the engine for them.
 */
import { parseDuration } from '../src/engine/config.ts';
import { aboveZero, interval, market, oneOf, splitMarket, wholeFrom } from './params.ts';
import type { Strategy } from './types.ts';

type P = { market: string; interval: string; kind: string; fast: number; slow: number; size: number };
type S = { prevSign: number };

export const maCross: Strategy<P, S> = {
  name: 'ma-cross',
  describe: 'SMA/EMA crossover on closed candles: long when fast > slow, flat otherwise',
  params: {
    market: { default: 'binance:BTCUSDT', describe: 'exchange:SYMBOL to trade', range: market() },
    interval: { default: '10s', describe: 'candle interval the averages are computed on', range: interval() },
    kind: { default: 'ema', describe: 'sma or ema', range: oneOf('sma', 'ema') },
    fast: { default: 5, describe: 'fast average period (candles)', range: wholeFrom(1, 'candles') },
    slow: { default: 20, describe: 'slow average period (candles)', range: wholeFrom(1, 'candles') },
    size: { default: 0.05, describe: 'base quantity bought on a cross up', range: aboveZero('a base quantity') },
  },
  rules: [{
    params: ['fast', 'slow'],
    // Equal periods are one indicator column: fast > slow is never true, so it never trades.
    // Above slow, "long when fast > slow" buys when the short average falls below the long
    // one: the crossover backwards, under the name of the usual one.
    must: 'fast must be below slow: equal periods never cross, and a fast period above the slow one trades the crossover backwards',
    holds: (p) => p.fast < p.slow,
  }],
  needs: (p) => ({ windowsMs: [parseDuration(p.interval)], [p.kind === 'sma' ? 'sma' : 'ema']: [p.fast, p.slow] }),
  init: () => ({ prevSign: 0 }),
  decide(ev, state, p, account) {
    if (ev.type !== 'indicators') return { state, orders: [] };
    const r = ev.indicators;
    const { exchange, symbol } = splitMarket(p.market);
    if (r.exchange !== exchange || r.symbol !== symbol || r.interval !== p.interval) return { state, orders: [] };
    const fast = r.values[`${p.kind}_${p.fast}`];
    const slow = r.values[`${p.kind}_${p.slow}`];
    if (fast == null || slow == null) return { state, orders: [] };
    const sign = fast > slow ? 1 : -1;
    const crossed = state.prevSign !== 0 && sign !== state.prevSign;
    const next = { prevSign: sign };
    if (!crossed || account.openOrders(r.exchange, r.symbol) > 0) return { state: next, orders: [] };
    const pos = account.position(r.exchange, r.symbol);
    if (sign > 0 && pos <= 1e-12) return { state: next, orders: [{ exchange: r.exchange, symbol: r.symbol, side: 'buy', size: p.size, type: 'market', tag: 'cross up' }] };
    if (sign < 0 && pos > 1e-12) return { state: next, orders: [{ exchange: r.exchange, symbol: r.symbol, side: 'sell', size: pos, type: 'market', tag: 'cross down' }] };
    return { state: next, orders: [] };
  },
};
