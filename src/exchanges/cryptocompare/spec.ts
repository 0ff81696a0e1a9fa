/**
 * CryptoCompare streamer v2 as tapedeck knows it (protocols.md §5b; the published spec only:
 * no real capture exists, and the simulator is the only peer the adapter has met). An
 * aggregator: one socket carries trades of many markets, each a venue of its own in the
 * outputs (`cryptocompare:Coinbase`, symbol `Coinbase~BTC~USD`), with that venue's fees. The
 * native symbol is the subscription without its channel, `<Market>~<BASE>~<QUOTE>`; a
 * canonical `BTC-USD` means the markets of CC_MARKETS. Live: `wss://streamer.cryptocompare.com/v2?api_key=…`,
 * one `SubAdd` of `0~…` (trades) and `30~…` (top of book, for arbitrage) per symbol; the
 * server's `999` heartbeat comes at least once a minute (two missed: the socket is stale);
 * `500 FORCE_DISCONNECT` asks for a reconnect. No REST trade history exists: gaps stay gaps.
 */
import type { SimEvent } from '../../sim/market.ts';
import { decoderOf, type ExchangeSpec } from '../spec.ts';
import { decodeCryptoCompare, newCcState } from './decode.ts';
import { CC_MARKETS } from './markets.ts';
import { CC_LOADCOMPLETE, ccSubAdd, ccSubs, ccSubscribed, ccTopOfBook, ccTrade, ccUrl, ccWelcome } from './wire.ts';

const NATIVE = /^([A-Za-z0-9.]+)~([A-Z0-9]+)~([A-Z0-9]+)$/;
const field = (payload: string, name: string): string | undefined => new RegExp(`"${name}":"([^"]+)"`).exec(payload)?.[1];

export const cryptocompare = {
  makeDecoder: decoderOf(newCcState, decodeCryptoCompare),
  symbols: {
    split: (symbol) => {
      const m = NATIVE.exec(symbol);
      return m ? [m[2]!, m[3]!] : undefined;
    },
    native: (c) => Object.keys(CC_MARKETS).map((m) => `${m}~${c.toUpperCase().replace('-', '~')}`),
    named: {
      pattern: NATIVE, form: 'Market~BASE~QUOTE', example: 'Coinbase~BTC~USD', canonical: `its ${Object.keys(CC_MARKETS).join(', ')} markets of each`,
      time: 'trade times have 1 s resolution unless the market sends TSNS: 1s is its finest honest window',
    },
    ofFrame: (payload) => {
      const [m, f, t] = [field(payload, 'M'), field(payload, 'FSYM'), field(payload, 'TSYM')];
      return m !== undefined && f !== undefined && t !== undefined ? `${m}~${f}~${t}` : undefined;
    },
    ofRest: () => undefined,
  },
  // A market tapedeck knows as an exchange takes that exchange's fees (registry.ts); these are for the others.
  fees: { takerBps: 40, makerBps: 25 },
  venues: Object.keys(CC_MARKETS),
  live: {
    endpoints: { ws: 'wss://streamer.cryptocompare.com/v2', rest: 'https://min-api.cryptocompare.com' },
    // Called, not captured: wire.ts may still be loading while the registry is built.
    apiKey: { env: 'CRYPTOCOMPARE_API_KEY', url: (ws, key) => ccUrl(ws, key) },
    connections: (ws, symbols) => [{ url: ws, subscribe: [ccSubAdd(symbols)] }],
    // A heartbeat at least once a minute; two missed mean a stale socket.
    silenceMs: 120_000,
    maxAgeMs: Number.POSITIVE_INFINITY,
    // The streamer refuses sockets opened too fast (429 RATE_LIMIT_OPENING_SOCKETS_TOO_FAST): wait ≥ 5 s.
    attempts: { count: 6, windowMs: 60_000 },
    reconnectNotice: (text) => text.startsWith('{"TYPE":"500"') && text.includes('"FORCE_DISCONNECT"'),
  },
  sim: {
    server: async () => (await import('./sim-server.ts')).cryptoCompareSimServer,
    symbol: (base) => Object.keys(CC_MARKETS).map((m) => `${m}~${base}~USD`),
    endpoint: (symbols) => ({
      url: ccUrl('wss://streamer.cryptocompare.com/v2', '***'),
      subscribe: [ccSubAdd(symbols)],
      ack: [ccWelcome(0), ...ccSubs(symbols).map(ccSubscribed), CC_LOADCOMPLETE],
    }),
    encoder: () => {
      const seqs = new Map<string, number>();
      return {
        wire: (e: SimEvent) => {
          if (e.kind === 'trade') return ccTrade(e);
          const seq = (seqs.get(e.symbol) ?? 0) + 1;
          seqs.set(e.symbol, seq);
          return ccTopOfBook(e, seq);
        },
        logged: (_e: SimEvent, wire: string) => wire,
      };
    },
    // No REST trade history (the live spec has no backfill): nothing ever asks for these.
    restTradesBody: () => '[]',
    restTradesUrl: () => '',
  },
} satisfies ExchangeSpec;
