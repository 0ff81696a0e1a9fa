/**
 * Cross-exchange arbitrage taker: when the engine reports an opportunity opening, buy on
 * the cheap venue and sell on the dear one at once (market orders), within a position
 * limit per venue. It takes the engine's word for the edge: its fees and staleness rules
 * are the run's `--fees`/`--staleness`.
 */
import { aboveZero } from './params.ts';
import type { Strategy } from './types.ts';

type P = { asset: string; size: number; maxPosition: number; minEdgeBps: number };

export const arbTaker: Strategy<P, null> = {
  name: 'arb-taker',
  describe: 'takes both legs of every cross-exchange arbitrage opportunity the engine reports',
  params: {
    // Any text: --map names assets freely, and which ones a recording has is known only once it is read.
    asset: { default: '', describe: 'only this asset (e.g. BTC/USD); empty: any' },
    size: { default: 0.01, describe: 'base quantity per leg', range: aboveZero('a base quantity') },
    maxPosition: { default: 0.1, describe: 'largest absolute position per venue and symbol', range: aboveZero('a base quantity') },
    // Any number: below the run's --min-edge it filters nothing (the detector reports none under that).
    minEdgeBps: { default: 0, describe: 'skip opportunities whose net edge is below this' },
  },
  rules: [{
    params: ['size', 'maxPosition'],
    // A leg larger than the limit never fits it: the run would take no opportunity at all.
    must: 'size must not be above maxPosition: a leg larger than the position limit is never taken',
    holds: (p) => p.size <= p.maxPosition,
  }],
  init: () => null,
  decide(ev, state, p, account) {
    if (ev.type !== 'arbitrage' || ev.arbitrage.event !== 'start') return { state, orders: [] };
    const a = ev.arbitrage;
    if ((p.asset !== '' && a.asset !== p.asset) || a.net_edge_bps < p.minEdgeBps) return { state, orders: [] };
    const buyPos = account.position(a.buy_exchange, a.buy_symbol);
    const sellPos = account.position(a.sell_exchange, a.sell_symbol);
    if (buyPos + p.size > p.maxPosition + 1e-12 || sellPos - p.size < -p.maxPosition - 1e-12) return { state, orders: [] };
    const tag = `${a.asset} ${a.net_edge_bps.toFixed(1)} bps`;
    return {
      state,
      orders: [
        { exchange: a.buy_exchange, symbol: a.buy_symbol, side: 'buy', size: p.size, type: 'market', tag },
        { exchange: a.sell_exchange, symbol: a.sell_symbol, side: 'sell', size: p.size, type: 'market', tag },
      ],
    };
  },
};
