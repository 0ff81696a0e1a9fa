/**
 * Bitstamp as tapedeck knows it so far (protocols.md §5): the WebSocket v2 adapter,
 * lowercase pairs without a separator (`btcusd`), its fees, and its live connection: one
 * socket subscribed to `live_trades_<pair>` and `order_book_<pair>` (top of book for
 * quotes), the client's `bts:heartbeat` every 10 s, a reconnect at `bts:request_reconnect`.
 * Not yet simulated; REST `transactions` (no id cursor, ≤ 24 h) is one page per request.
 */
import { decoderOf, splitOnQuotes, type ExchangeSpec } from '../spec.ts';

const subscribe = (channel: string): string => JSON.stringify({ event: 'bts:subscribe', data: { channel } });

/** Bitstamp's newest-first trades of the last day, at most: it pages by time, not by id. */
const transactionsUrl = (rest: string, pair: string, time: 'minute' | 'day'): string => `${rest}/api/v2/transactions/${pair}/?time=${time}`;
import { decodeBitstamp, newBitstampState } from './decode.ts';

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
    connections: (ws, pairs) => [{ url: ws, subscribe: pairs.flatMap((p) => [subscribe(`live_trades_${p}`), subscribe(`order_book_${p}`)]) }],
    // The server answers each heartbeat, so a quiet market is not a silent socket.
    heartbeat: { everyMs: 10_000, frame: '{"event":"bts:heartbeat"}' },
    silenceMs: 30_000,
    // The server drops connections after 90 days; leave a day early.
    maxAgeMs: 89 * 24 * 3_600_000,
    attempts: { count: 10, windowMs: 60_000 },
    // Key spacing differs between Bitstamp's servers (protocols.md §5).
    reconnectNotice: (text) => /"event": ?"bts:request_reconnect"/.test(text),
    backfill: {
      first: (rest, gap) => transactionsUrl(rest, gap.symbol, 'day'),
      // No cursor: the day's page is all there is; the adapter drops the trades it already has.
      next: (_rest, _gap, _url, res) => {
        const rows: unknown = JSON.parse(res.body);
        if (!Array.isArray(rows)) throw new Error('the transactions response is not a list');
        return { trades: rows.length, next: undefined };
      },
    },
    latestTradeUrl: (rest, pair) => transactionsUrl(rest, pair, 'minute'),
    tradeIdField: 'tid',
  },
} satisfies ExchangeSpec;
