/**
 * The exchange registry: every supported exchange's adapter, its state, and how its native
 * symbols map to a canonical asset (`BTC/USD`) so that quotes can meet across venues.
 */
import type { LogEvent } from '../log/event.ts';
import type { DecodeCounts, MarketEvent } from '../market/events.ts';
import { decodeBinance, newBinanceState } from './binance/decode.ts';
import { decodeCoinbase, newCoinbaseState } from './coinbase/decode.ts';

export interface Decoder {
  decode(ev: LogEvent): MarketEvent[];
  readonly counts: DecodeCounts;
}

interface ExchangeSpec {
  readonly makeDecoder: () => Decoder;
  /** Native symbol → [base, quote], or undefined when it cannot be split. */
  readonly splitSymbol: (symbol: string) => [string, string] | undefined;
}

/** Binance symbols carry no separator: split on the longest known quote asset. */
const BINANCE_QUOTES = ['FDUSD', 'USDT', 'USDC', 'BUSD', 'TUSD', 'BTC', 'ETH', 'BNB', 'EUR', 'GBP', 'AUD', 'TRY', 'BRL', 'USD', 'DAI'];

function splitBinance(symbol: string): [string, string] | undefined {
  const s = symbol.toUpperCase();
  for (const q of BINANCE_QUOTES) if (s.endsWith(q) && s.length > q.length) return [s.slice(0, -q.length), q];
  return undefined;
}

function splitDashed(symbol: string): [string, string] | undefined {
  const parts = symbol.toUpperCase().split(/[-/]/);
  return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : undefined;
}

const binance: ExchangeSpec = {
  makeDecoder: () => {
    const s = newBinanceState();
    return { decode: (ev) => decodeBinance(ev, s), counts: s.counts };
  },
  splitSymbol: splitBinance,
};

const EXCHANGES: Record<string, ExchangeSpec> = {
  binance,
  // Binance.US speaks the same protocol and schema (cryptofeed's BINANCE_US recordings).
  binanceus: binance,
  coinbase: {
    makeDecoder: () => {
      const s = newCoinbaseState();
      return { decode: (ev) => decodeCoinbase(ev, s), counts: s.counts };
    },
    splitSymbol: splitDashed,
  },
};

/** The spec of `name`; own keys only, so that an exchange named `constructor` is simply unknown. */
function spec(name: string): ExchangeSpec | undefined {
  return Object.hasOwn(EXCHANGES, name) ? EXCHANGES[name] : undefined;
}

export function isSupportedExchange(name: string): boolean {
  return spec(name) !== undefined;
}

export function makeDecoder(exchange: string): Decoder | undefined {
  return spec(exchange)?.makeDecoder();
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
  const key = `${exchange}:${symbol}`;
  if (Object.hasOwn(opts.mapping, key)) return opts.mapping[key];
  const split = spec(exchange)?.splitSymbol(symbol);
  if (!split) return undefined;
  const [base, quote] = split;
  return `${base}/${opts.usdtAsUsd && USD_LIKE.has(quote) ? 'USD' : quote}`;
}

/**
 * The native symbol a LogEvent is about, read from its text without decoding it (for
 * routing: Kafka keys and partitions). Undefined for events about no one symbol (ticks,
 * connection events, acks), which every partition needs.
 */
export function eventSymbol(ev: LogEvent): string | undefined {
  if (ev.kind === 'rest') {
    const q = /[?&]symbol=([A-Za-z0-9]+)/.exec(ev.meta) ?? /\/products\/([^/?]+)\//.exec(ev.meta);
    return q?.[1];
  }
  if (ev.kind === 'gap') return /"symbol":"([^"]+)"/.exec(ev.payload)?.[1];
  if (ev.kind !== 'frame') return undefined;
  if (ev.exchange === 'coinbase') return /"product_id":"([^"]+)"/.exec(ev.payload)?.[1];
  const stream = /^\{"stream":"([a-z0-9]+)@/.exec(ev.payload);
  if (stream) return stream[1]!.toUpperCase();
  return /"s":"([A-Z0-9]+)"/.exec(ev.payload)?.[1];
}
