/**
 * What the recorder needs to know of each exchange: where to connect, what to subscribe
 * to, how to ask for a trade backfill, and its connection limits (protocols.md §1–2).
 */
import { restTradesUrl } from '../src/sim/rest.ts';

export interface Venue {
  readonly exchange: string;
  /** Native symbols for canonical `BTC-USD`-style names. */
  readonly symbols: string[];
  /** WebSocket URLs to open (one connection each) and the frames to send on open. */
  readonly connections: { url: string; subscribe: string[] }[];
  readonly restBase: string;
  /** Silence (no frame, no ping) after which the connection counts as dead. */
  readonly silenceMs: number;
  /** Reconnect before the exchange's own forced disconnect (Binance: 24 h). */
  readonly maxAgeMs: number;
  /** Connection attempts allowed per window. */
  readonly attempts: { count: number; windowMs: number };
  backfillUrl(symbol: string, fromId: bigint, toId: bigint): string;
  /** The newest trade of `symbol` (one row), and the field its id is in. */
  latestTradeUrl(symbol: string): string;
  readonly tradeIdField: string;
}

export const DEFAULT_ENDPOINTS: Record<string, { ws: string; rest: string }> = {
  binance: { ws: 'wss://stream.binance.com:9443', rest: 'https://api.binance.com' },
  coinbase: { ws: 'wss://ws-feed.exchange.coinbase.com', rest: 'https://api.exchange.coinbase.com' },
};

export const RECORDABLE = Object.keys(DEFAULT_ENDPOINTS);

/** `BTC-USD` → Binance `BTCUSDT` (Binance spot quotes dollars as USDT), Coinbase `BTC-USD`. */
export function nativeSymbol(exchange: string, canonical: string): string {
  const [base, quote] = canonical.toUpperCase().split('-') as [string, string];
  if (exchange === 'binance') return `${base}${quote === 'USD' ? 'USDT' : quote}`;
  return `${base}-${quote}`;
}

/** Cryptofeed caps Binance at 200 streams per connection (protocols.md §1); so do we. */
const BINANCE_STREAMS_PER_CONN = 200;

export function venue(exchange: string, canonical: readonly string[], endpoint?: { ws: string; rest: string }): Venue {
  const ep = endpoint ?? DEFAULT_ENDPOINTS[exchange]!;
  const symbols = canonical.map((c) => nativeSymbol(exchange, c));
  if (exchange === 'binance') {
    const streams = symbols.flatMap((s) => [`${s.toLowerCase()}@trade`, `${s.toLowerCase()}@bookTicker`]);
    const connections = [];
    for (let i = 0; i < streams.length; i += BINANCE_STREAMS_PER_CONN) {
      connections.push({ url: `${ep.ws}/stream?streams=${streams.slice(i, i + BINANCE_STREAMS_PER_CONN).join('/')}`, subscribe: [] });
    }
    return {
      exchange, symbols, connections, restBase: ep.rest,
      // Binance pings every 20 s; hftbacktest treats 30 s without one as dead.
      silenceMs: 30_000,
      maxAgeMs: 24 * 3_600_000 - 5 * 60_000,
      attempts: { count: 300, windowMs: 5 * 60_000 },
      backfillUrl: (symbol, fromId, toId) => restTradesUrl('binance', symbol, fromId, ep.rest).replace('limit=1000', `limit=${Math.min(1000, Number(toId - fromId + 1n))}`),
      latestTradeUrl: (symbol) => `${ep.rest}/api/v3/trades?symbol=${symbol}&limit=1`,
      tradeIdField: 'id',
    };
  }
  return {
    exchange, symbols, restBase: ep.rest,
    connections: [{ url: ep.ws, subscribe: [JSON.stringify({ type: 'subscribe', product_ids: symbols, channels: ['matches', 'ticker', 'heartbeat'] })] }],
    // Heartbeats come every second per product.
    silenceMs: 10_000,
    maxAgeMs: Number.POSITIVE_INFINITY,
    attempts: { count: 8, windowMs: 1_000 },
    backfillUrl: (symbol, fromId, toId) => restTradesUrl('coinbase', symbol, toId + 1n, ep.rest).replace('limit=1000', `limit=${Math.min(1000, Number(toId - fromId + 1n))}`),
    latestTradeUrl: (symbol) => `${ep.rest}/products/${symbol}/trades?limit=1`,
    tradeIdField: 'trade_id',
  };
}
