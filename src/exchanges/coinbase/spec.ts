/**
 * Coinbase Exchange (`ws-feed`) as tapedeck knows it (protocols.md §2): the adapter,
 * `BTC-USD` products, one subscribe for matches/ticker/heartbeat, `trades?after=` backfill
 * paged backwards by the `CB-AFTER` cursor, and the simulator's wire shapes.
 */
import type { SimEvent, SimTrade } from '../../sim/market.ts';
import { decoderOf, idsIn, newestOf, pageLimit, splitDashed, type ExchangeSpec } from '../spec.ts';
import { decodeCoinbase, newCoinbaseState } from './decode.ts';
import { coinbaseMatch, coinbaseRestTrades, coinbaseRestTradesUrl, coinbaseSubscribe, coinbaseSubscriptions, coinbaseTicker } from './wire.ts';

export const coinbase = {
  makeDecoder: decoderOf(newCoinbaseState, decodeCoinbase),
  symbols: {
    split: splitDashed,
    native: (canonical) => {
      const [base, quote] = canonical.toUpperCase().split('-') as [string, string];
      return `${base}-${quote}`;
    },
    ofFrame: (payload) => /"product_id":"([^"]+)"/.exec(payload)?.[1],
    ofRest: (url) => /\/products\/([^/?]+)\//.exec(url)?.[1],
  },
  // Entry-tier Coinbase Exchange fees: 0.60 % taker, 0.40 % maker.
  fees: { takerBps: 60, makerBps: 40 },
  live: {
    endpoints: { ws: 'wss://ws-feed.exchange.coinbase.com', rest: 'https://api.exchange.coinbase.com' },
    connections: (ws, symbols) => [{ url: ws, subscribe: [coinbaseSubscribe(symbols)] }],
    // Heartbeats come every second per product.
    silenceMs: 10_000,
    maxAgeMs: Number.POSITIVE_INFINITY,
    attempts: { count: 8, windowMs: 1_000 },
    backfill: {
      // `after` = older than: start just past the gap's newest id, page backwards.
      first: (rest, gap) => coinbaseRestTradesUrl(gap.symbol, gap.toId + 1n, rest).replace('limit=1000', `limit=${pageLimit(gap.fromId, gap.toId)}`),
      // Follow CB-AFTER until past the gap's oldest id.
      next: (_rest, gap, url, res) => {
        const seen = idsIn(res.body, 'trade_id');
        const oldest = seen.reduce<bigint | undefined>((a, b) => (a === undefined || b < a ? b : a), undefined);
        const cursor = res.header('cb-after');
        const done = oldest === undefined || oldest <= gap.fromId || !cursor;
        return { trades: seen.length, next: done ? undefined : url.replace(/after=\d+/, `after=${cursor}`) };
      },
    },
    latestTradeUrl: (rest, symbol) => `${rest}/products/${symbol}/trades?limit=1`,
    newestTradeId: (body) => newestOf(idsIn(body, 'trade_id')),
  },
  sim: {
    server: async () => (await import('./sim-server.ts')).coinbaseSimServer,
    symbol: (base) => `${base}-USD`,
    endpoint: (symbols) => ({ url: 'wss://ws-feed.exchange.coinbase.com', subscribe: [coinbaseSubscribe(symbols)], ack: [coinbaseSubscriptions(symbols)] }),
    encoder: () => {
      let seq = 300_000_000;
      // A ticker repeats its product's last trade.
      const lastTrade = new Map<string, SimTrade>();
      return {
        wire: (e: SimEvent) => {
          seq += 1 + (seq % 7);
          if (e.kind === 'trade') {
            lastTrade.set(e.symbol, e);
            return coinbaseMatch(e, seq);
          }
          const t = lastTrade.get(e.symbol);
          return coinbaseTicker(e, seq, t && { price: t.price, size: t.size, side: t.side, tradeId: t.tradeId });
        },
        logged: (_e: SimEvent, wire: string) => wire,
      };
    },
    restTradesBody: coinbaseRestTrades,
    restTradesUrl: coinbaseRestTradesUrl,
  },
} satisfies ExchangeSpec;
