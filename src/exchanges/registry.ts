/**
 * The exchange registry: every exchange tapedeck knows, one `ExchangeSpec` each
 * (spec.ts). Adding an exchange is its folder, one line here, and its tests; every consumer
 * (engine, recorder, backfill, simulator, CLI help and defaults, Kafka routing) asks this
 * module, so no code outside an exchange's folder branches on its name.
 */
import type { LogEvent } from '../log/event.ts';
import { binance } from './binance/spec.ts';
import { bitstamp } from './bitstamp/spec.ts';
import { coinbase } from './coinbase/spec.ts';
import { cryptocompare } from './cryptocompare/spec.ts';
import { kraken } from './kraken/spec.ts';
import type { SimProtocol } from '../sim/protocol.ts';
import type { Census, Decoder, ExchangeSpec, LiveSpec, SimSpec } from './spec.ts';

export type { Decoder } from './spec.ts';

/** Every exchange tapedeck knows. A name here without a registry line (or the reverse) does not compile. */
export type ExchangeId = 'binance' | 'binanceus' | 'bitstamp' | 'coinbase' | 'cryptocompare' | 'kraken';

export const EXCHANGES = {
  binance,
  // Binance.US speaks the same protocol and schema (cryptofeed's BINANCE_US recordings).
  binanceus: { ...binance, cryptofeedName: 'BINANCE_US', live: undefined, sim: undefined },
  bitstamp,
  coinbase,
  cryptocompare,
  kraken,
} satisfies Record<ExchangeId, ExchangeSpec>;

/** Every exchange, in name order. */
export const EXCHANGE_IDS = (Object.keys(EXCHANGES) as ExchangeId[]).sort();

/** The spec of `name`; own keys only, so that an exchange named `constructor` is simply unknown. */
export function exchangeSpec(name: string): ExchangeSpec | undefined {
  return Object.hasOwn(EXCHANGES, name) ? (EXCHANGES as Record<string, ExchangeSpec>)[name] : undefined;
}

/** The exchange whose spec reads a venue's symbols: `cryptocompare:Kraken` (an aggregator's market) → `cryptocompare`. */
function exchangeOfVenue(venue: string): string {
  const colon = venue.indexOf(':');
  return colon < 0 ? venue : venue.slice(0, colon);
}

export function isSupportedExchange(name: string): boolean {
  return exchangeSpec(name) !== undefined;
}

export function makeDecoder(exchange: string): Decoder | undefined {
  return exchangeSpec(exchange)?.makeDecoder();
}

/**
 * What the import's census runs for `exchange` (spec.ts `Census`): its shortcut, or with
 * `full` (or when it has none) its decoder on every event.
 */
export function makeCensus(exchange: string, full = false): Census | undefined {
  const spec = exchangeSpec(exchange);
  if (spec === undefined) return undefined;
  if (!full && spec.makeCensus !== undefined) return spec.makeCensus();
  const d = spec.makeDecoder();
  // A decode_error is counted where the engine counts it: from the events.
  return { count: (ev) => { for (const m of d.decode(ev)) if (m.type === 'decode_error') d.counts.errors++; }, counts: d.counts, sure: true };
}

/** Exchanges `record` can connect to, with their connection specs. */
export const RECORDABLE: readonly string[] = EXCHANGE_IDS.filter((x) => exchangeSpec(x)!.live !== undefined);

export function liveSpec(exchange: string): LiveSpec | undefined {
  return exchangeSpec(exchange)?.live;
}

/** Exchanges the simulator speaks. */
export const SIMULATED: readonly string[] = EXCHANGE_IDS.filter((x) => exchangeSpec(x)!.sim !== undefined);

/** The simulator's side of `exchange`; a programming error for one it does not speak (callers check SIMULATED). */
export function simSpec(exchange: string): SimSpec {
  const s = exchangeSpec(exchange)?.sim;
  if (s === undefined) throw new Error(`the simulator does not speak ${exchange}`);
  return s;
}

/** The simulator's protocol server of every exchange it speaks (each its `sim-server.ts`), loaded. */
export async function loadSimServers(): Promise<ReadonlyMap<string, SimProtocol>> {
  return new Map(await Promise.all(SIMULATED.map(async (x) => [x, await simSpec(x).server()] as const)));
}

/**
 * Default taker and maker fees of every exchange, bps: the one place they are written is each
 * spec. An aggregator's markets are venues of their own (`cryptocompare:Kraken`), each with
 * the fees of the exchange of its name when there is one, else the aggregator's.
 */
export function defaultFees(kind: 'takerBps' | 'makerBps'): Record<string, number> {
  return Object.fromEntries(EXCHANGE_IDS.flatMap((x) => {
    const spec: ExchangeSpec = EXCHANGES[x];
    const venues = (spec.venues ?? []).map((v) => [`${x}:${v}`, (exchangeSpec(v.toLowerCase()) ?? spec).fees[kind]] as const);
    return [[x, spec.fees[kind]] as const, ...venues];
  }));
}

/** The exchange of a cryptofeed file name's first part (`BINANCE_US` → binanceus); an unknown one in lower case. */
export function cryptofeedExchange(name: string): string {
  const known = EXCHANGE_IDS.find((x) => ((EXCHANGES[x] as ExchangeSpec).cryptofeedName ?? x.toUpperCase()) === name);
  return known ?? name.toLowerCase();
}

/** Stablecoins that count as USD when `usdtAsUsd` is on (the default, and said so in the README). */
const USD_LIKE = new Set(['USDT', 'USDC', 'FDUSD', 'BUSD', 'TUSD', 'DAI']);

/**
 * Canonical asset of a native symbol: `BTCUSDT` → `BTC/USD` (with USDT as USD), `BTC-USD`
 * → `BTC/USD`. An explicit mapping (`binance:BTCUSDT=BTC/USD`) wins over the rule.
 */
export function canonicalAsset(
  exchange: string, symbol: string, opts: { usdtAsUsd: boolean; mapping: Readonly<Record<string, string>> },
): string | undefined {
  // An aggregator's symbol names its market (`Kraken~BTC~USD`): the mapping keys it by the aggregator (`cryptocompare:Kraken~BTC~USD`).
  const x = exchangeOfVenue(exchange);
  const key = `${x}:${symbol}`;
  if (Object.hasOwn(opts.mapping, key)) return opts.mapping[key];
  const split = exchangeSpec(x)?.symbols.split(symbol);
  if (!split) return undefined;
  const [base, quote] = split;
  return `${base}/${opts.usdtAsUsd && USD_LIKE.has(quote) ? 'USD' : quote}`;
}

/**
 * The native symbol a LogEvent is about, read from its text without decoding it (for
 * routing: Kafka keys and partitions). Undefined for events about no one symbol (ticks,
 * connection events, acks) and for exchanges tapedeck does not know: every partition needs those.
 */
export function eventSymbol(ev: LogEvent): string | undefined {
  // The recorder's own gap note: `{"symbol":…,"status":"failed",…}`.
  if (ev.kind === 'gap') return /"symbol":"([^"]+)"/.exec(ev.payload)?.[1];
  const rules = exchangeSpec(ev.exchange)?.symbols;
  if (rules === undefined) return undefined;
  if (ev.kind === 'rest') return rules.ofRest(ev.meta);
  return ev.kind === 'frame' ? rules.ofFrame(ev.payload) : undefined;
}
