/**
 * The simulator's protocol servers, one per exchange it speaks: which WebSocket paths it
 * answers, the connection class that speaks the protocol, its REST routes, and how to tell
 * a trade frame (for the `drop` fault on a re-served recording). server.ts asks this table
 * and never branches on an exchange's name.
 *
 * These stay here, not in src/exchanges/<x>/, because they hold sockets and timers (the
 * edges' business); the pure parts (wire shapes, REST bodies) are in each exchange's spec.
 */
import type { WebSocket } from 'ws';
import type { ExchangeId } from '../../src/exchanges/registry.ts';
import { BinanceConnection, binanceAggTrades, binanceHistoricalTrades, binanceRecentTrades, binanceStreamOf, type BinanceOptions } from './binance.ts';
import { BitstampConnection, bitstampStreamOf, bitstampTransactionsReply } from './bitstamp.ts';
import { CoinbaseConnection, coinbaseStreamOf, coinbaseTrades, type CoinbaseOptions } from './coinbase.ts';
import { KrakenConnection, krakenStreamOf, krakenTradesReply } from './kraken.ts';
import type { ConnContext, SimConnection } from './connection.ts';
import type { TradeLog } from './feed.ts';
import { ArchiveFeed } from './archive-feed.ts';
import { binanceRest } from './binance-rest.ts';
import { coinbaseCarried, coinbaseRest } from './coinbase-rest.ts';
import { decodePathPart } from './http-guard.ts';

export interface ProtocolOptions {
  readonly binance?: Partial<BinanceOptions>;
  readonly coinbase?: Partial<CoinbaseOptions>;
}

/** The time a REST reply carries: the replay's present when re-serving a recording, else the wall clock's. */
function serverTimeMs(feed: TradeLog): number {
  return feed instanceof ArchiveFeed ? Number(feed.nowNs / 1_000_000n) : Date.now();
}

export interface RestReply { status: number; body: string; headers?: Record<string, string> }

export interface SimProtocol {
  /** Whether the exchange serves WebSocket upgrades at this URL (else 404). */
  accepts(url: URL): boolean;
  /** A connection speaking the protocol, for an upgrade `accepts` took. */
  connect(ws: WebSocket, ctx: ConnContext, url: URL, feed: TradeLog, o: ProtocolOptions): SimConnection;
  /** The REST reply for a GET below `/<exchange>/`, or undefined (404). */
  rest(pathname: string, query: URLSearchParams, feed: TradeLog): RestReply | undefined;
  /** Whether a recorded frame is a trade. */
  isTrade(payload: string): boolean;
  /** The stream a recorded frame belongs to (what a client subscribes to), or undefined for control traffic. */
  streamOf(payload: string): string | undefined;
  /** The symbol a stream is about, in the exchange's spelling (`btcusdt@trade` → `btcusdt`). */
  symbolOf(stream: string): string;
  /** A recorded trade frame's price and size exactly as printed, or undefined. */
  tradeText(payload: string): { price: string; size: string } | undefined;
  /** Frames a slice that starts late must open with, from the recorded frames before it (Coinbase: level2 snapshots); none for most. */
  carried?(before: Iterable<string>): string[];
}

/** `/binance/ws/<stream>` (raw) or `/binance/stream?streams=…` (combined). */
const BINANCE_PATH = /^\/binance\/(ws|stream)(\/|$)/;

const binance: SimProtocol = {
  accepts: (url) => BINANCE_PATH.test(url.pathname),
  connect: (ws, ctx, url, _feed, o) => new BinanceConnection(
    ws, ctx, url, { pingIntervalMs: 20_000, pongTimeoutMs: 60_000, maxIncomingPerSecond: 5, ...o.binance }, BINANCE_PATH.exec(url.pathname)![1] === 'stream',
  ),
  rest: (pathname, query, feed) => {
    const hist = /^\/binance\/api\/v3\/(historicalTrades|aggTrades|trades)$/.exec(pathname);
    if (!hist) return binanceRest(pathname.slice('/binance'.length), query, feed, serverTimeMs(feed));
    const symbol = query.get('symbol') ?? '';
    // A market of the recording whose first trade the replay has not reached yet is known, and empty.
    if (!feed.markets('binance').some((m) => m.symbol === symbol)) return { status: 400, body: '{"code":-1121,"msg":"Invalid symbol."}' };
    const trades = feed.tradesOf('binance', symbol);
    const handler = hist[1] === 'aggTrades' ? binanceAggTrades : hist[1] === 'trades' ? binanceRecentTrades : binanceHistoricalTrades;
    return handler(trades, query);
  },
  isTrade: (payload) => payload.includes('"e":"trade"'),
  streamOf: binanceStreamOf,
  symbolOf: (stream) => stream.split('@')[0]!,
  tradeText: (payload) => texts(payload, /"p":"([^"]+)"/, /"q":"([^"]+)"/),
};

const coinbase: SimProtocol = {
  accepts: (url) => url.pathname.replace(/\/$/, '') === '/coinbase',
  connect: (ws, ctx, _url, feed, o) => new CoinbaseConnection(ws, ctx, feed, { subscribeTimeoutMs: 5_000, heartbeatMs: 1_000, ...o.coinbase }),
  rest: (pathname, query, feed) => {
    const cb = /^\/coinbase\/products\/([^/]+)\/trades$/.exec(pathname);
    if (!cb) return coinbaseRest(pathname.slice('/coinbase'.length), query, feed, decodePathPart);
    const product = decodePathPart(cb[1]!);
    if (!feed.markets('coinbase').some((m) => m.symbol === product)) return { status: 404, body: '{"message":"NotFound"}' };
    return coinbaseTrades(feed.tradesOf('coinbase', product), query);
  },
  isTrade: (payload) => payload.includes('"type":"match"'),
  streamOf: coinbaseStreamOf,
  symbolOf: (stream) => stream.slice(stream.indexOf(':') + 1),
  tradeText: (payload) => texts(payload, /"price":"([^"]+)"/, /"size":"([^"]+)"/),
  carried: coinbaseCarried,
};

/** `/bitstamp` (the real URL also takes a trailing slash). */
const bitstamp: SimProtocol = {
  accepts: (url) => url.pathname.replace(/\/$/, '') === '/bitstamp',
  connect: (ws, ctx) => new BitstampConnection(ws, ctx),
  rest: (pathname, query, feed) => {
    const tx = /^\/bitstamp\/api\/v2\/transactions\/([a-z0-9]+)\/?$/.exec(pathname);
    if (!tx || !feed.markets('bitstamp').some((m) => m.symbol === tx[1])) return undefined;
    return bitstampTransactionsReply(feed.tradesOf('bitstamp', tx[1]!), query, serverTimeMs(feed));
  },
  isTrade: (payload) => /"event": ?"trade"/.test(payload),
  streamOf: bitstampStreamOf,
  symbolOf: (stream) => stream.slice(stream.lastIndexOf('_') + 1),
  tradeText: (payload) => texts(payload, /"price_str": ?"([^"]+)"/, /"amount_str": ?"([^"]+)"/),
};

/** `/kraken/v2` (or `/kraken`). */
const kraken: SimProtocol = {
  accepts: (url) => /^\/kraken(\/v2)?\/?$/.test(url.pathname),
  connect: (ws, ctx, _url, feed) => new KrakenConnection(ws, ctx, feed),
  rest: (pathname, query, feed) => (pathname === '/kraken/0/public/Trades' ? krakenTradesReply(feed, query) : undefined),
  isTrade: (payload) => payload.startsWith('{"channel":"trade"'),
  streamOf: krakenStreamOf,
  symbolOf: (stream) => stream.slice(stream.indexOf(':') + 1),
  // Prices and sizes are JSON numbers: the recorded digits are the text.
  tradeText: (payload) => texts(payload, /"price":([0-9.eE+-]+)/, /"qty":([0-9.eE+-]+)/),
};

function texts(payload: string, price: RegExp, size: RegExp): { price: string; size: string } | undefined {
  const p = price.exec(payload)?.[1];
  const s = size.exec(payload)?.[1];
  return p !== undefined && s !== undefined ? { price: p, size: s } : undefined;
}

export const SIM_PROTOCOLS: Partial<Record<ExchangeId, SimProtocol>> = { binance, bitstamp, coinbase, kraken };

export function simProtocol(exchange: string): SimProtocol | undefined {
  return Object.hasOwn(SIM_PROTOCOLS, exchange) ? SIM_PROTOCOLS[exchange as ExchangeId] : undefined;
}
