/**
 * What an exchange is to tapedeck, in one typed value (issue 11 §1, STYLE.md shape 12):
 * `src/exchanges/<x>/spec.ts` exports one `ExchangeSpec`, and the registry lists them all.
 * Every consumer (engine, recorder, backfill, simulator, CLI help and defaults, Kafka
 * routing) asks the spec; none branches on an exchange's name.
 *
 * Everything here is pure: URLs and frames are strings, paging is a function of the last
 * response. The I/O (sockets, fetch, timers) stays at the edges that use these: the
 * simulator's protocol server for the exchange (its `sim-server.ts`, which holds timers and
 * speaks on sockets the simulator hands it) is named here but loaded only by the simulator.
 */
import type { LogEvent } from '../log/event.ts';
import type { DecodeCounts, MarketEvent } from '../market/events.ts';
import type { SimEvent, SimTrade } from '../sim/market.ts';
import type { SimProtocol } from '../sim/protocol.ts';

export interface Decoder {
  decode(ev: LogEvent): MarketEvent[];
  readonly counts: DecodeCounts;
}

/**
 * What the import's census runs (undecoded.ts): `count` moves `counts.recognised` and
 * `counts.unknown` as `decode` would over the same events, but may skip the work of the
 * routes that cannot move them (the market data itself). `sure` turns false once it meets
 * events after which it cannot tell (then the census counts again with `decode`).
 */
export interface Census {
  count(ev: LogEvent): void;
  readonly counts: DecodeCounts;
  readonly sure: boolean;
}

/** How native symbols relate to canonical assets, and where a raw event names its symbol. */
export interface SymbolRules {
  /** Native symbol → [base, quote], or undefined when it cannot be split. */
  split(symbol: string): [string, string] | undefined;
  /** Canonical `BTC-USD` → the native symbol the exchange trades it as (several for an aggregator: one per market it carries). */
  native(canonical: string): string | readonly string[];
  /**
   * Native symbols a user may name as they are in `record --symbols` (an aggregator's
   * `<Market>~BTC~USD`), when not only canonical ones: their pattern, their form and an
   * example (for help and errors), what a canonical `BASE-QUOTE` means instead, and what
   * `--help` should know of the exchange's event time.
   */
  readonly named?: { readonly pattern: RegExp; readonly form: string; readonly example: string; readonly canonical: string; readonly time: string };
  /** The native symbol a received frame is about, read from its text without decoding it (Kafka routing); undefined for control frames. */
  ofFrame(payload: string): string | undefined;
  /** The native symbol of a logged REST request (its URL). */
  ofRest(url: string): string | undefined;
}

/** Entry-tier fees, basis points: the defaults of `--fees` (taker) and `--maker-fees`. */
export interface Fees {
  readonly takerBps: number;
  readonly makerBps: number;
}

/** A trade-id gap the recorder asks the exchange to fill over REST. */
export interface GapRequest {
  readonly exchange: string;
  readonly symbol: string;
  readonly fromId: bigint;
  readonly toId: bigint;
  /**
   * Exchange time (µs) of the last trade received before the gap, when the recorder saw
   * one: where an exchange's REST pages by time, not by trade id, the gap's trades come after it.
   */
  readonly sinceUs?: number;
}

/** One REST response, as the backfill pager sees it. */
export interface PageResponse {
  readonly body: string;
  readonly header: (name: string) => string | null;
}

/**
 * REST trade backfill as pure paging: the first request of a gap, then from each response
 * the next request or the end. `trades` is how many rows the response held.
 */
export interface BackfillPaging {
  first(rest: string, gap: GapRequest): string;
  /** Throws (an Error with a message for the gap event) when the response cannot make progress. */
  next(rest: string, gap: GapRequest, url: string, res: PageResponse): { trades: number; next: string | undefined };
}

/** What the recorder needs to hold a live connection to the exchange (protocols.md). */
export interface LiveSpec {
  readonly endpoints: { readonly ws: string; readonly rest: string };
  /**
   * The exchange needs an API key: `record --api-key`, else the environment variable `env`.
   * `url` puts it into a WebSocket URL; the recorder logs that URL with the key masked and
   * writes the key nowhere.
   */
  readonly apiKey?: { readonly env: string; url(ws: string, key: string): string };
  /** WebSocket URLs to open (one connection each) and the frames to send on open. */
  connections(ws: string, symbols: readonly string[]): { url: string; subscribe: string[] }[];
  /** Silence (no frame, no ping) after which the connection counts as dead. */
  readonly silenceMs: number;
  /** Reconnect before the exchange's own forced disconnect. */
  readonly maxAgeMs: number;
  /** Connection attempts allowed per window. */
  readonly attempts: { readonly count: number; readonly windowMs: number };
  /** A frame by which the exchange asks clients to reconnect now (maintenance, a move). */
  readonly reconnectNotice?: (text: string) => boolean;
  /** A frame the client sends every `everyMs` to keep the connection (and its silence watch) alive. */
  readonly heartbeat?: { readonly everyMs: number; readonly frame: string };
  /** Absent (with the two below): the exchange has no REST trade history; gaps stay gaps and a restart backfills nothing. */
  readonly backfill?: BackfillPaging;
  /** The newest trade of `symbol` (restart backfill), and the newest trade id in that URL's response (undefined when it holds none; throws on a body it cannot read). */
  latestTradeUrl?(rest: string, symbol: string): string;
  newestTradeId?(body: string): bigint | undefined;
}

export interface SimEndpoint {
  readonly url: string;
  readonly subscribe: readonly string[];
  readonly ack: readonly string[];
}

/** The simulator's side of the exchange: its wire shapes for simulated market events, and its protocol server. */
export interface SimSpec {
  /**
   * The protocol server `tapedeck simulate` runs for the exchange (src/sim/protocol.ts),
   * loaded when the simulator starts: nothing else pulls in its sockets' code, and the REST
   * routes' imports (engine candles) need the registry already built.
   */
  readonly server: () => Promise<SimProtocol>;
  /** Native symbol of a simulated asset (several for an aggregator: one stream per market). */
  symbol(base: string): string | readonly string[];
  /** Where a recorder connects, the frames it sends, and the acks it gets, in order (offline sessions). */
  endpoint(symbols: readonly string[]): SimEndpoint;
  /** A fresh encoder (it keeps sequence numbers): `wire` is what the simulator's socket layer gets, `logged` what a recorder subscribed as `record` does receives. */
  encoder(): { wire(e: SimEvent): string; logged(e: SimEvent, wire: string): string };
  /** The REST trade-backfill body for these trades, in the exchange's order. */
  restTradesBody(trades: readonly SimTrade[]): string;
  /** The backfill URL a recorder asks for the page at trade `id` (each exchange's cursor rule). */
  restTradesUrl(symbol: string, id: number | bigint, base?: string): string;
}

export interface ExchangeSpec {
  /** The name cryptofeed gives the exchange in its file names (`<NAME>.ws.1.0`), when it is not the id in capitals. */
  readonly cryptofeedName?: string;
  readonly makeDecoder: () => Decoder;
  /** The census's shortcut (`Census`); absent: the census runs `makeDecoder`'s decoder on every event. */
  readonly makeCensus?: () => Census;
  readonly symbols: SymbolRules;
  readonly fees: Fees;
  /**
   * An aggregator's markets (the `M` of its trades): each is a venue of its own in the outputs,
   * named `<exchange>:<market>`, with the fees of the exchange of that name when tapedeck
   * knows it (a market named like an exchange id takes that exchange's), else this spec's.
   */
  readonly venues?: readonly string[];
  /** Absent: tapedeck decodes and replays this exchange's recordings but cannot record it live (yet). */
  readonly live?: LiveSpec;
  /** Absent: the simulator does not speak this exchange (yet). */
  readonly sim?: SimSpec;
}

/** A `makeDecoder` from an adapter and its fresh state. */
export function decoderOf<S extends { readonly counts: DecodeCounts }>(fresh: () => S, decode: (ev: LogEvent, state: S) => MarketEvent[]): () => Decoder {
  return () => {
    const s = fresh();
    return { decode: (ev) => decode(ev, s), counts: s.counts };
  };
}

/** Symbols that carry no separator (`BTCUSDT`): split on the longest known quote asset. */
export function splitOnQuotes(quotes: readonly string[]): (symbol: string) => [string, string] | undefined {
  return (symbol) => {
    const s = symbol.toUpperCase();
    for (const q of quotes) if (s.endsWith(q) && s.length > q.length) return [s.slice(0, -q.length), q];
    return undefined;
  };
}

/** `BTC-USD`, `XBT/USD` → [base, quote]. */
export function splitDashed(symbol: string): [string, string] | undefined {
  const parts = symbol.toUpperCase().split(/[-/]/);
  return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : undefined;
}

/** `limit=` for the ids `fromId..toId`: at most 1000 (every exchange's page cap). */
export const pageLimit = (fromId: bigint, toId: bigint): number => Math.min(1000, Number(toId - fromId + 1n));

/** The largest of `ids`, or undefined when there are none. */
export const newestOf = (ids: readonly bigint[]): bigint | undefined => (ids.length === 0 ? undefined : ids.reduce((a, b) => (a > b ? a : b)));

/** The integer values of `"field":N` in a response body. */
export const idsIn = (body: string, field: string): bigint[] => [...body.matchAll(new RegExp(`"${field}":(\\d+)`, 'g'))].map((m) => BigInt(m[1]!));
