/**
 * RSI mean reversion, long or flat: buy when RSI closes below `low` (oversold), sell the
 * position when it closes above `high` (overbought). Entries are limit orders a few basis
 * points under the close, so they fill only if the market trades down to them.
 */
import { parseDuration } from '../src/engine/config.ts';
import { aboveZero, between, interval, market, splitMarket, wholeFrom } from './params.ts';
import type { Strategy } from './types.ts';

type P = { market: string; interval: string; period: number; low: number; high: number; size: number; offsetBps: number };

export const rsiReversion: Strategy<P, null> = {
  name: 'rsi-reversion',
  describe: 'RSI mean reversion: buy oversold (limit below the close), sell overbought',
  params: {
    market: { default: 'binance:BTCUSDT', describe: 'exchange:SYMBOL to trade', range: market() },
    interval: { default: '10s', describe: 'candle interval RSI is computed on', range: interval() },
    // As --rsi: a period of 1 is 0 or 100 on every candle.
    period: { default: 14, describe: 'RSI period (Wilder)', range: wholeFrom(2, 'candles') },
    low: { default: 30, describe: 'buy below this RSI', range: between(0, 100) },
    high: { default: 70, describe: 'sell above this RSI', range: between(0, 100) },
    size: { default: 0.05, describe: 'base quantity per entry', range: aboveZero('a base quantity') },
    // 10 000 bps under the close is a limit price of 0, which execution refuses mid-run.
    offsetBps: { default: 2, describe: 'entry limit price this many bps under the close', range: between(0, 10_000, false) },
  },
  rules: [{
    params: ['low', 'high'],
    // Equal is a strategy (buy under 50, sell over 50); crossed is churn.
    must: 'low must not be above high: an RSI between them is both oversold and overbought, a buy and a sell on alternate candles',
    holds: (p) => p.low <= p.high,
  }],
  needs: (p) => ({ windowsMs: [parseDuration(p.interval)], rsi: p.period }),
  init: () => null,
  decide(ev, state, p, account) {
    if (ev.type !== 'indicators') return { state, orders: [] };
    const r = ev.indicators;
    const { exchange, symbol } = splitMarket(p.market);
    if (r.exchange !== exchange || r.symbol !== symbol || r.interval !== p.interval) return { state, orders: [] };
    const rsi = r.values[`rsi_${p.period}`];
    if (rsi == null || account.openOrders(exchange, symbol) > 0) return { state, orders: [] };
    const pos = account.position(exchange, symbol);
    if (rsi < p.low && pos <= 1e-12) {
      const price = Math.round(r.close * (1 - p.offsetBps / 10_000) * 100) / 100;
      return { state, orders: [{ exchange, symbol, side: 'buy', size: p.size, type: 'limit', price, tag: `rsi ${rsi.toFixed(1)}` }] };
    }
    if (rsi > p.high && pos > 1e-12) return { state, orders: [{ exchange, symbol, side: 'sell', size: pos, type: 'market', tag: `rsi ${rsi.toFixed(1)}` }] };
    return { state, orders: [] };
  },
};
