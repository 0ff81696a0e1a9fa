/**
 * Coinbase Exchange's public REST on loopback, in its own shapes and error shapes, from the
 * recording (or the synthetic market) alone: `/currencies` and `/products` (what clients
 * load first), `/products/{id}/book` (the recorded level2 snapshot brought to the replay's
 * present by the recorded updates), `/products/{id}/candles` (tapedeck's engine candles),
 * `/products/{id}/ticker`.
 */
import { L2Book, type Level } from '../../sim/book.ts';
import { engineCandles } from '../../sim/klines.ts';
import { tradeDecimals, type SimTrade } from '../../sim/market.ts';
import { isoMicros } from '../../log/time.ts';
import { stepText, type MarketInfo } from '../../sim/markets.ts';
import { decodePathPart } from '../../sim/http-refusal.ts';
import type { RecordedRest, RestContext, RestReply } from '../../sim/protocol.ts';

const NOT_FOUND: RestReply = { status: 404, body: '{"message":"NotFound"}' };
const GRANULARITIES = [60, 300, 900, 3600, 21600, 86400];

/** `GET /products`: every market the recording trades in. */
export function coinbaseProducts(markets: readonly MarketInfo[]): RestReply {
  return {
    status: 200,
    body: JSON.stringify(markets.map((m) => ({
      id: m.symbol, base_currency: m.base, quote_currency: m.quote,
      quote_increment: stepText(m.priceDecimals), base_increment: stepText(m.sizeDecimals), display_name: m.symbol.replace('-', '/'),
      min_market_funds: stepText(m.priceDecimals), margin_enabled: false, post_only: false, limit_only: false, cancel_only: false,
      status: 'online', status_message: '', trading_disabled: false, fx_stablecoin: false, max_slippage_percentage: '0.03000000', auction_mode: false,
    }))),
  };
}

/** `GET /currencies`: the assets of those markets, at the finest decimals the recording shows for each. */
export function coinbaseCurrencies(markets: readonly MarketInfo[]): RestReply {
  const decimals = new Map<string, number>();
  for (const m of markets) {
    decimals.set(m.base, Math.max(decimals.get(m.base) ?? 0, m.sizeDecimals));
    decimals.set(m.quote, Math.max(decimals.get(m.quote) ?? 0, m.priceDecimals));
  }
  return {
    status: 200,
    body: JSON.stringify([...decimals].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([id, d]) => ({
      id, name: id, min_size: stepText(d), status: 'online', message: '', max_precision: stepText(d), convertible_to: [],
      details: { type: 'crypto', symbol: '', network_confirmations: 0, sort_order: 0, push_payment_methods: [] }, default_network: '', supported_networks: [],
    }))),
  };
}

/** `GET /products/{id}/candles?granularity=&start=&end=`: [time, low, high, open, close, volume], newest first, at most 300. */
export function coinbaseCandles(trades: readonly SimTrade[], query: URLSearchParams): RestReply {
  const g = Number(query.get('granularity') ?? 60);
  if (!GRANULARITIES.includes(g)) return { status: 400, body: '{"message":"Unsupported granularity"}' };
  const start = query.has('start') ? Date.parse(query.get('start')!) : Number.NEGATIVE_INFINITY;
  const end = query.has('end') ? Date.parse(query.get('end')!) : Number.POSITIVE_INFINITY;
  if (Number.isNaN(start) || Number.isNaN(end)) return { status: 400, body: '{"message":"Invalid start or end"}' };
  const rows = engineCandles(trades, g * 1000).filter((c) => Number(c.window_start) >= start && Number(c.window_start) <= end)
    .slice(-300).reverse()
    .map((c) => [Number(c.window_start) / 1000, c.low, c.high, c.open, c.close, c.volume]);
  return { status: 200, body: JSON.stringify(rows) };
}

/**
 * `GET /products/{id}/book?level=1|2`: the product's recorded level2 snapshot (the newest by
 * the present, else its first) with every recorded `l2update` after it up to the present.
 */
export function coinbaseBook(feed: RecordedRest, product: string, query: URLSearchParams): RestReply {
  const stream = `level2:${product}`;
  const mine = [...feed.framesUntilNow('coinbase')].filter((f) => f.stream === stream).map((f) => f.payload);
  let book = coinbaseBooks(mine).get(product);
  const sequence = mine.length;
  if (book === undefined) {
    const first = feed.framesOf('coinbase').find((f) => f.stream === stream && f.payload.startsWith('{"type":"snapshot"'));
    if (first === undefined) return { status: 404, body: '{"message":"the recording holds no level2 snapshot of this product"}' };
    const m = JSON.parse(first.payload) as { bids: Level[]; asks: Level[] };
    book = new L2Book(m.bids, m.asks);
  }
  const n = query.get('level') === '1' ? 1 : 50;
  const side = (s: 'bids' | 'asks'): [string, string, number][] => book.top(s, n).map(([p, q]) => [p, q, 1]);
  return { status: 200, body: JSON.stringify({ bids: side('bids'), asks: side('asks'), sequence, auction_mode: false, auction: null }) };
}

/**
 * `GET /products/{id}/ticker`: the last trade by the present (its recorded decimals), the
 * newest recorded best bid/offer (its `ticker` frames), and the 24 h volume before it.
 */
export function coinbaseTicker(trades: readonly SimTrade[], lastTicker: string | undefined): RestReply {
  const last = trades.at(-1);
  const best = lastTicker === undefined ? undefined : JSON.parse(lastTicker) as { best_bid?: string; best_ask?: string };
  const from = (last?.tsUs ?? 0) - 86_400_000_000;
  const volume = trades.filter((t) => t.tsUs > from).reduce((s, t) => s + t.size, 0);
  const d = last && tradeDecimals(last, 2);
  return {
    status: 200,
    body: JSON.stringify({
      ask: best?.best_ask ?? '0', bid: best?.best_bid ?? '0', volume: volume.toFixed(8), trade_id: last?.tradeId ?? 0,
      price: d?.price ?? '0', size: d?.size ?? '0', time: last ? isoMicros(last.tsUs) : isoMicros(0),
    }),
  };
}

/** Each product's book after these recorded `snapshot` and `l2update` frames (others are passed over). */
export function coinbaseBooks(payloads: Iterable<string>): Map<string, L2Book> {
  const books = new Map<string, L2Book>();
  for (const p of payloads) {
    if (!p.startsWith('{"type":"snapshot"') && !p.startsWith('{"type":"l2update"')) continue;
    const m = JSON.parse(p) as { type: string; product_id: string; bids?: Level[]; asks?: Level[]; changes?: [string, string, string][] };
    if (m.type === 'snapshot') books.set(m.product_id, new L2Book(m.bids ?? [], m.asks ?? []));
    else for (const [side, price, size] of m.changes ?? []) books.get(m.product_id)?.set(side === 'buy' ? 'bids' : 'asks', price, size);
  }
  return books;
}

/**
 * What a level2 subscriber needs at the start of a slice that cut the recorded snapshot
 * off: each product's snapshot as the book stood then (the recorded snapshot with every
 * recorded update before the slice), in Coinbase's shape.
 */
export function coinbaseCarried(before: Iterable<string>): string[] {
  return [...coinbaseBooks(before)].map(([product, b]) =>
    `{"type":"snapshot","product_id":${JSON.stringify(product)},"asks":${JSON.stringify(b.top('asks', Number.POSITIVE_INFINITY))},"bids":${JSON.stringify(b.top('bids', Number.POSITIVE_INFINITY))}}`);
}

/** Every route above, for a GET below `/coinbase/`; undefined: not one of them. */
export function coinbaseRest(path: string, query: URLSearchParams, { feed, recording }: RestContext): RestReply | undefined {
  const markets = feed.markets('coinbase');
  if (path === '/products') return coinbaseProducts(markets);
  if (path === '/currencies') return coinbaseCurrencies(markets);
  const m = /^\/products\/([^/]+)\/(book|candles|ticker)$/.exec(path);
  if (m === null) return undefined;
  const id = decodePathPart(m[1]!);
  if (!markets.some((x) => x.symbol === id)) return NOT_FOUND;
  if (m[2] === 'candles') return coinbaseCandles(feed.tradesOf('coinbase', id), query);
  if (m[2] === 'ticker') {
    let last: string | undefined;
    if (recording) for (const f of recording.framesUntilNow('coinbase')) if (f.stream === `ticker:${id}`) last = f.payload;
    return coinbaseTicker(feed.tradesOf('coinbase', id), last);
  }
  return recording ? coinbaseBook(recording, id, query) : undefined;
}
