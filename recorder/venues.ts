/**
 * What the recorder needs to know of each exchange, from its spec's `live` part
 * (src/exchanges/<x>/spec.ts): where to connect, what to subscribe to, how to page a trade
 * backfill, and its connection limits.
 */
import { EXCHANGE_IDS, exchangeSpec, liveSpec, RECORDABLE } from '../src/exchanges/registry.ts';
import type { BackfillPaging } from '../src/exchanges/spec.ts';

export { RECORDABLE };

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
  readonly reconnectNotice: ((text: string) => boolean) | undefined;
  readonly heartbeat: { readonly everyMs: number; readonly frame: string } | undefined;
  /** REST trade backfill, paged (against `restBase`). */
  readonly backfill: BackfillPaging;
  /** The newest trade of `symbol`, and the newest trade id in that URL's response. */
  latestTradeUrl(symbol: string): string;
  newestTradeId(body: string): bigint | undefined;
}

/** Each recordable exchange's public endpoints. */
export const DEFAULT_ENDPOINTS: Record<string, { ws: string; rest: string }> = Object.fromEntries(
  EXCHANGE_IDS.flatMap((x) => {
    const live = exchangeSpec(x)!.live;
    return live ? [[x, live.endpoints]] : [];
  }),
);

/** `BTC-USD` → the exchange's native symbol (Binance `BTCUSDT`, Coinbase `BTC-USD`). */
export function nativeSymbol(exchange: string, canonical: string): string {
  return exchangeSpec(exchange)!.symbols.native(canonical);
}

export function venue(exchange: string, canonical: readonly string[], endpoint?: { ws: string; rest: string }): Venue {
  const live = liveSpec(exchange);
  if (live === undefined) throw new Error(`tapedeck cannot record ${exchange} live`);
  const ep = endpoint ?? live.endpoints;
  const symbols = canonical.map((c) => nativeSymbol(exchange, c));
  return {
    exchange, symbols, restBase: ep.rest, connections: live.connections(ep.ws, symbols),
    silenceMs: live.silenceMs, maxAgeMs: live.maxAgeMs, attempts: live.attempts, reconnectNotice: live.reconnectNotice, heartbeat: live.heartbeat, backfill: live.backfill,
    latestTradeUrl: (symbol) => live.latestTradeUrl(ep.rest, symbol), newestTradeId: live.newestTradeId,
  };
}
