/**
 * Kraken as tapedeck knows it so far (protocols.md §4): the v1/v2 adapter, `XBT/USD`
 * (v1) and `BTC/USD` (v2) pairs, its fees, and its live connection: v2, one socket
 * subscribed to `trade` (with the snapshot of recent trades, which the adapter de-duplicates
 * against what it has, so a short disconnect refills itself) and `ticker` on every best
 * bid/offer change. A gap the snapshot does not cover is backfilled over REST `Trades`,
 * which pages by time: from the last trade before the gap (backfill.ts). The simulator speaks
 * v2 in the wire shapes of wire.ts.
 */
import type { SimEvent } from '../../sim/market.ts';
import { decoderOf, newestOf, splitDashed, type ExchangeSpec } from '../spec.ts';
import { decodeKraken, newKrakenState } from './decode.ts';
import { answeredPage, krakenBackfill } from './backfill.ts';
import { krakenRestSymbol, krakenRestTrades, krakenSubscribed, krakenSubscriptions, krakenTicker, krakenTrades, krakenTradesUrl } from './wire.ts';

/** Kraken's own names for assets others call otherwise (v1 pairs use them; v2 does not). */
const ALIASES: Record<string, string> = { XBT: 'BTC', XDG: 'DOGE' };
const canonical = (asset: string): string => (Object.hasOwn(ALIASES, asset) ? ALIASES[asset]! : asset);

export const kraken = {
  makeDecoder: decoderOf(newKrakenState, decodeKraken),
  symbols: {
    split: (symbol) => {
      const s = splitDashed(symbol);
      return s && [canonical(s[0]), canonical(s[1])];
    },
    // v2 spells pairs with the common names: `BTC/USD`.
    native: (c) => c.toUpperCase().replace('-', '/'),
    // v1 arrays end with the pair; v2 objects name it `symbol`.
    ofFrame: (payload) => /,"([^"]+)"\]$/.exec(payload)?.[1] ?? /"symbol":"([^"]+)"/.exec(payload)?.[1],
    // REST spells pairs without the slash (`pair=BTCUSD`): the v2 symbol is its frames' one.
    ofRest: krakenRestSymbol,
  },
  // Entry-tier Kraken Pro fees: 0.26 % taker (there is no lower public tier), 0.16 % maker.
  fees: { takerBps: 26, makerBps: 16 },
  live: {
    endpoints: { ws: 'wss://ws.kraken.com/v2', rest: 'https://api.kraken.com' },
    connections: (ws, symbols) => [{
      url: ws,
      subscribe: krakenSubscriptions(symbols),
    }],
    // Kraken sends a heartbeat about every second when nothing else flows [K2]; its guide
    // reconnects after 5 s of nothing [K6].
    silenceMs: 5_000,
    maxAgeMs: Number.POSITIVE_INFINITY,
    // It rate-limits connection attempts per IP: about one per 5 s after maintenance [K7].
    attempts: { count: 12, windowMs: 60_000 },
    backfill: krakenBackfill,
    latestTradeUrl: (rest, symbol) => `${rest}/0/public/Trades?pair=${symbol.replace('/', '')}&count=1`,
    // REST trade rows are arrays without field names: the id is each row's last element.
    newestTradeId: (body) => newestOf(answeredPage(body).ids),
  },
  sim: {
    server: async () => (await import('./sim-server.ts')).krakenSimServer,
    symbol: (base) => `${base}/USD`,
    endpoint: (symbols) => ({
      url: 'wss://ws.kraken.com/v2',
      subscribe: krakenSubscriptions(symbols),
      ack: [...symbols.map((s) => krakenSubscribed('trade', s, 1, 0)), ...symbols.map((s) => krakenSubscribed('ticker', s, 2, 0))],
    }),
    encoder: () => {
      // A ticker carries its symbol's last trade price.
      const last = new Map<string, number>();
      return {
        wire: (e: SimEvent) => {
          if (e.kind === 'quote') return krakenTicker('update', e, last.get(e.symbol));
          last.set(e.symbol, e.price);
          return krakenTrades('update', [e]);
        },
        logged: (_e: SimEvent, wire: string) => wire,
      };
    },
    restTradesBody: krakenRestTrades,
    // Kraken's cursor is a time, not a trade id: the page holding any id starts at the beginning.
    restTradesUrl: (symbol, _id, base) => krakenTradesUrl(symbol, 0, base),
  },
} satisfies ExchangeSpec;
