/**
 * Binance spot as tapedeck knows it (protocols.md §1): the adapter, symbols without a
 * separator (`BTCUSDT`), combined streams, the 24 h connection limit, `historicalTrades`
 * backfill by id, and the simulator's wire shapes.
 */
import type { SimEvent } from '../../sim/market.ts';
import { decoderOf, idsIn, newestOf, pageLimit, splitOnQuotes, type ExchangeSpec } from '../spec.ts';
import { urlParam } from '../common.ts';
import { makeBinanceCensus } from './census.ts';
import { decodeBinance, newBinanceState } from './decode.ts';
import {
  binanceBookTickerPayload, binanceCombined, binanceRestTrades, binanceRestTradesUrl, binanceStream, binanceSubscribe, binanceTradePayload,
} from './wire.ts';

/** Quote assets, longest first where one ends another (`FDUSD` before `USD`). */
const QUOTES = ['FDUSD', 'USDT', 'USDC', 'BUSD', 'TUSD', 'BTC', 'ETH', 'BNB', 'EUR', 'GBP', 'AUD', 'TRY', 'BRL', 'USD', 'DAI'];

/** Cryptofeed caps Binance at 200 streams per connection (protocols.md §1); so do we. */
const STREAMS_PER_CONN = 200;

const streamsOf = (symbols: readonly string[]): string[] => symbols.flatMap((s) => [binanceStream(s, 'trade'), binanceStream(s, 'bookTicker')]);

/** `historicalTrades` from `fromId`, at most the ids the gap still needs. */
const pageUrl = (rest: string, symbol: string, fromId: bigint, toId: bigint): string =>
  binanceRestTradesUrl(symbol, fromId, rest).replace('limit=1000', `limit=${pageLimit(fromId, toId)}`);

export const binance = {
  makeDecoder: decoderOf(newBinanceState, decodeBinance),
  makeCensus: makeBinanceCensus,
  symbols: {
    split: splitOnQuotes(QUOTES),
    // Binance spot quotes dollars as USDT.
    native: (canonical) => {
      const [base, quote] = canonical.toUpperCase().split('-') as [string, string];
      return `${base}${quote === 'USD' ? 'USDT' : quote}`;
    },
    ofFrame: (payload) => {
      const stream = /^\{"stream":"([a-z0-9]+)@/.exec(payload);
      if (stream) return stream[1]!.toUpperCase();
      return /"s":"([A-Z0-9]+)"/.exec(payload)?.[1];
    },
    ofRest: (url) => /[?&]symbol=([A-Za-z0-9]+)/.exec(url)?.[1],
  },
  // Entry-tier spot fees: 0.10 % taker and maker.
  fees: { takerBps: 10, makerBps: 10 },
  live: {
    endpoints: { ws: 'wss://stream.binance.com:9443', rest: 'https://api.binance.com' },
    connections: (ws, symbols) => {
      const streams = streamsOf(symbols);
      const out = [];
      for (let i = 0; i < streams.length; i += STREAMS_PER_CONN) out.push({ url: `${ws}/stream?streams=${streams.slice(i, i + STREAMS_PER_CONN).join('/')}`, subscribe: [] });
      return out;
    },
    // Binance pings every 20 s; hftbacktest treats 30 s without one as dead.
    silenceMs: 30_000,
    maxAgeMs: 24 * 3_600_000 - 5 * 60_000,
    attempts: { count: 300, windowMs: 5 * 60_000 },
    // Binance announces maintenance: reconnect at once rather than wait to be cut off.
    reconnectNotice: (text) => text.includes('"e":"serverShutdown"'),
    backfill: {
      first: (rest, gap) => pageUrl(rest, gap.symbol, gap.fromId, gap.toId),
      // Pages forward by id: the next page starts after the newest id this one held.
      next: (rest, gap, url, res) => {
        const seen = idsIn(res.body, 'id');
        if (seen.length === 0) throw new Error(`no trades from id ${urlParam(url, 'fromId') ?? '?'}`);
        const from = seen.reduce((a, b) => (a > b ? a : b)) + 1n;
        return { trades: seen.length, next: from <= gap.toId ? pageUrl(rest, gap.symbol, from, gap.toId) : undefined };
      },
    },
    latestTradeUrl: (rest, symbol) => `${rest}/api/v3/trades?symbol=${symbol}&limit=1`,
    newestTradeId: (body) => newestOf(idsIn(body, 'id')),
  },
  sim: {
    server: async () => (await import('./sim-server.ts')).binanceSimServer,
    symbol: (base) => `${base}USDT`,
    endpoint: (symbols) => ({ url: 'wss://stream.binance.com:9443/stream', subscribe: [binanceSubscribe(streamsOf(symbols), 1)], ack: ['{"result":null,"id":1}'] }),
    encoder: () => {
      let updateId = 50_000_000_000;
      return {
        wire: (e: SimEvent) => {
          if (e.kind === 'trade') return binanceTradePayload(e);
          updateId += 1 + (updateId % 5);
          return binanceBookTickerPayload(e, updateId);
        },
        // Recorders subscribe to combined streams: each payload comes wrapped.
        logged: (e: SimEvent, wire: string) => binanceCombined(binanceStream(e.symbol, e.kind === 'trade' ? 'trade' : 'bookTicker'), wire),
      };
    },
    restTradesBody: binanceRestTrades,
    restTradesUrl: binanceRestTradesUrl,
  },
} satisfies ExchangeSpec;
