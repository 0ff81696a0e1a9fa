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
  /** The text with the venue's API key masked (what is logged of its connections). */
  mask(text: string): string;
  readonly restBase: string;
  /** Silence (no frame, no ping) after which the connection counts as dead. */
  readonly silenceMs: number;
  /** Reconnect before the exchange's own forced disconnect (Binance: 24 h). */
  readonly maxAgeMs: number;
  /** Connection attempts allowed per window. */
  readonly attempts: { count: number; windowMs: number };
  readonly reconnectNotice: ((text: string) => boolean) | undefined;
  readonly heartbeat: { readonly everyMs: number; readonly frame: string } | undefined;
  /** REST trade backfill, paged (against `restBase`), the newest trade of `symbol`, and the newest trade id in that URL's response; absent: no REST trade history. */
  readonly trades: { readonly backfill: BackfillPaging; latestTradeUrl(symbol: string): string; newestTradeId(body: string): bigint | undefined } | undefined;
}

/** What `record` names on its own: native symbols per exchange (an aggregator's `<Market>~BTC~USD`), API keys. */
export interface VenueChoices {
  readonly native?: readonly string[];
  readonly apiKey?: string;
}

/** Each recordable exchange's public endpoints. */
export const DEFAULT_ENDPOINTS: Record<string, { ws: string; rest: string }> = Object.fromEntries(
  EXCHANGE_IDS.flatMap((x) => {
    const live = exchangeSpec(x)!.live;
    return live ? [[x, live.endpoints]] : [];
  }),
);

/** `BTC-USD` → the exchange's native symbols (Binance `BTCUSDT`, Coinbase `BTC-USD`; an aggregator one per market). */
export function nativeSymbols(exchange: string, canonical: string): readonly string[] {
  return [exchangeSpec(exchange)!.symbols.native(canonical)].flat();
}

/** The key masked wherever it appears in a URL (plain or URL-encoded). */
export function masked(text: string, key: string): string {
  return text.replaceAll(key, '***').replaceAll(encodeURIComponent(key), '***');
}

export function venue(exchange: string, canonical: readonly string[], endpoint?: { ws: string; rest: string }, choices: VenueChoices = {}): Venue {
  const live = liveSpec(exchange);
  if (live === undefined) throw new Error(`tapedeck cannot record ${exchange} live`);
  const ep = endpoint ?? live.endpoints;
  const symbols = choices.native !== undefined && choices.native.length > 0 ? [...choices.native] : canonical.flatMap((c) => nativeSymbols(exchange, c));
  const { apiKey } = choices;
  const withKey = (url: string): string => (live.apiKey && apiKey !== undefined ? live.apiKey.url(url, apiKey) : url);
  const { backfill, latestTradeUrl, newestTradeId } = live;
  return {
    exchange, symbols, restBase: ep.rest,
    connections: live.connections(ep.ws, symbols).map((c) => ({ ...c, url: withKey(c.url) })),
    mask: apiKey === undefined || apiKey === '' ? (text) => text : (text) => masked(text, apiKey),
    silenceMs: live.silenceMs, maxAgeMs: live.maxAgeMs, attempts: live.attempts, reconnectNotice: live.reconnectNotice, heartbeat: live.heartbeat,
    trades: backfill && latestTradeUrl && newestTradeId ? { backfill, latestTradeUrl: (symbol) => latestTradeUrl(ep.rest, symbol), newestTradeId } : undefined,
  };
}
