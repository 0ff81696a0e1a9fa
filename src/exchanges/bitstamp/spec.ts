/**
 * Bitstamp as tapedeck knows it so far (protocols.md §5): the WebSocket v2 adapter,
 * lowercase pairs without a separator (`btcusd`), its fees, and its live connection: one
 * socket subscribed to `live_trades_<pair>` and `order_book_<pair>` (top of book for
 * quotes), the client's `bts:heartbeat` every 10 s, a reconnect at `bts:request_reconnect`.
 * REST `transactions` (no id cursor, ≤ 24 h) is one page per request: the adapter asks for
 * it after a disconnect when a pair's ids skipped (decode.ts). The simulator speaks
 * it in the wire shapes of wire.ts (USD pairs: `btcusd`).
 */
import type { SimEvent } from '../../sim/market.ts';
import { decoderOf, newestOf, splitOnQuotes, type ExchangeSpec } from '../spec.ts';
import { decodeBitstamp, newBitstampState } from './decode.ts';
import {
  bitstampBook, bitstampChannels, bitstampSubscribe, bitstampSubscribed, bitstampTrade, bitstampTransactions, bitstampTransactionsUrl,
} from './wire.ts';

/** Quote assets Bitstamp lists, longest first where one ends another. */
const QUOTES = ['USDT', 'USDC', 'PAX', 'GUSD', 'USD', 'EUR', 'GBP', 'BTC', 'ETH'];

export const bitstamp = {
  makeDecoder: decoderOf(newBitstampState, decodeBitstamp),
  symbols: {
    split: splitOnQuotes(QUOTES),
    native: (c) => c.toLowerCase().replace('-', ''),
    ofFrame: (payload) => /"channel": ?"(?:live_trades|order_book|diff_order_book|detail_order_book)_([a-z0-9]+)"/.exec(payload)?.[1],
    ofRest: (url) => /\/(?:transactions|order_book)\/([a-z0-9]+)/.exec(url)?.[1],
  },
  // Entry-tier Bitstamp fees: 0.40 % taker, 0.30 % maker.
  fees: { takerBps: 40, makerBps: 30 },
  live: {
    endpoints: { ws: 'wss://ws.bitstamp.net', rest: 'https://www.bitstamp.net' },
    connections: (ws, pairs) => [{ url: ws, subscribe: bitstampChannels(pairs).map(bitstampSubscribe) }],
    // The server answers each heartbeat, so a quiet market is not a silent socket.
    heartbeat: { everyMs: 10_000, frame: '{"event":"bts:heartbeat"}' },
    silenceMs: 30_000,
    // The server drops connections after 90 days; leave a day early.
    maxAgeMs: 89 * 24 * 3_600_000,
    attempts: { count: 10, windowMs: 60_000 },
    // Key spacing differs between Bitstamp's servers (protocols.md §5).
    reconnectNotice: (text) => /"event": ?"bts:request_reconnect"/.test(text),
    backfill: {
      first: (rest, gap) => bitstampTransactionsUrl(gap.symbol, 'day', rest),
      // No cursor: the day's page is all there is; the adapter drops the trades it already has.
      next: (_rest, _gap, _url, res) => {
        const rows: unknown = JSON.parse(res.body);
        if (!Array.isArray(rows)) throw new Error('the transactions response is not a list');
        return { trades: rows.length, next: undefined };
      },
    },
    latestTradeUrl: (rest, pair) => bitstampTransactionsUrl(pair, 'minute', rest),
    // `tid` is a string in the transactions rows.
    newestTradeId: (body) => newestOf([...body.matchAll(/"tid":"(\d+)"/g)].map((m) => BigInt(m[1]!))),
  },
  sim: {
    server: async () => (await import('./sim-server.ts')).bitstampSimServer,
    symbol: (base) => `${base.toLowerCase()}usd`,
    endpoint: (pairs) => {
      const channels = bitstampChannels(pairs);
      return { url: 'wss://ws.bitstamp.net', subscribe: channels.map(bitstampSubscribe), ack: channels.map(bitstampSubscribed) };
    },
    encoder: () => ({
      wire: (e: SimEvent) => (e.kind === 'trade' ? bitstampTrade(e) : bitstampBook(e)),
      logged: (_e: SimEvent, wire: string) => wire,
    }),
    restTradesBody: bitstampTransactions,
    // No id cursor: the day's trades hold any gap a recorder can still fill.
    restTradesUrl: (pair, _id, base) => bitstampTransactionsUrl(pair, 'day', base),
  },
} satisfies ExchangeSpec;
