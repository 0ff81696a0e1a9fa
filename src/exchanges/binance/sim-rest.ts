/**
 * Binance spot's public REST on loopback, in its own shapes and error shapes, from the
 * recording (or the synthetic market) alone: what ccxt and other ordinary clients call
 * first — `exchangeInfo` (with empty futures lists, so a client that loads every market type
 * gets a clean answer), `depth` (the recorded snapshot brought to the replay's present by
 * the recorded diffs), `klines` (tapedeck's engine candles), `ticker/24hr`.
 */
import { L2Book, type Level } from '../../sim/book.ts';
import { engineCandles } from '../../sim/klines.ts';
import type { SimTrade } from '../../sim/market.ts';
import { stepText } from '../../sim/markets.ts';
import type { TradeLog } from '../../sim/feed.ts';
import type { RecordedRest, RestContext, RestReply } from '../../sim/protocol.ts';

const err = (code: number, msg: string): RestReply => ({ status: 400, body: JSON.stringify({ code, msg }) });
const MISSING_SYMBOL = err(-1102, 'Mandatory parameter \'symbol\' was not sent, was empty/null, or malformed.');
const BAD_SYMBOL = err(-1121, 'Invalid symbol.');

const INTERVALS: Readonly<Record<string, number>> = {
  '1s': 1_000, '1m': 60_000, '3m': 180_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000,
  '1h': 3_600_000, '2h': 7_200_000, '4h': 14_400_000, '6h': 21_600_000, '8h': 28_800_000, '12h': 43_200_000, '1d': 86_400_000,
};

/** The limit a query asks for, within Binance's bounds for the endpoint. */
function limitOf(query: URLSearchParams, dflt: number, max: number): number {
  const n = Number(query.get('limit') ?? dflt);
  return Number.isInteger(n) && n > 0 ? Math.min(max, n) : dflt;
}

/** `GET /api/v3/exchangeInfo`: every market the recording trades in. */
export function binanceExchangeInfo(feed: TradeLog, serverTimeMs: number): RestReply {
  const symbols = feed.markets('binance').map((m) => ({
    symbol: m.symbol, status: 'TRADING', baseAsset: m.base, baseAssetPrecision: 8, quoteAsset: m.quote, quotePrecision: 8, quoteAssetPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'], icebergAllowed: true, ocoAllowed: true,
    isSpotTradingAllowed: true, isMarginTradingAllowed: false,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: stepText(m.priceDecimals, 8), maxPrice: '1000000.00000000', tickSize: stepText(m.priceDecimals, 8) },
      { filterType: 'LOT_SIZE', minQty: stepText(m.sizeDecimals, 8), maxQty: '9000.00000000', stepSize: stepText(m.sizeDecimals, 8) },
    ],
    permissions: [], permissionSets: [['SPOT']],
  }));
  return { status: 200, body: JSON.stringify({ timezone: 'UTC', serverTime: serverTimeMs, rateLimits: [], exchangeFilters: [], symbols }) };
}

/** `GET /fapi/v1/exchangeInfo`, `/dapi/v1/exchangeInfo`: a spot recording holds no futures. */
export function binanceNoFutures(serverTimeMs: number): RestReply {
  return { status: 200, body: JSON.stringify({ timezone: 'UTC', serverTime: serverTimeMs, rateLimits: [], exchangeFilters: [], assets: [], symbols: [] }) };
}

/** `GET /api/v3/klines?symbol=&interval=&startTime=&endTime=&limit=`: the engine's candles up to the present. */
export function binanceKlines(trades: readonly SimTrade[], query: URLSearchParams): RestReply {
  const interval = query.get('interval');
  if (interval === null) return err(-1102, 'Mandatory parameter \'interval\' was not sent, was empty/null, or malformed.');
  const ms = INTERVALS[interval];
  if (ms === undefined) return err(-1120, 'Invalid interval.');
  const start = query.has('startTime') ? Number(query.get('startTime')) : undefined;
  const end = query.has('endTime') ? Number(query.get('endTime')) : undefined;
  const limit = limitOf(query, 500, 1000);
  const buyQuote = new Map<number, number>();
  for (const t of trades) {
    const w = Math.floor(t.tsUs / 1000 / ms) * ms;
    if (t.side === 'buy') buyQuote.set(w, (buyQuote.get(w) ?? 0) + t.price * t.size);
  }
  let rows = engineCandles(trades, ms).filter((c) => (start === undefined || Number(c.window_start) >= start) && (end === undefined || Number(c.window_start) <= end));
  rows = start !== undefined ? rows.slice(0, limit) : rows.slice(-limit);
  const f = (x: number): string => x.toFixed(8);
  return {
    status: 200,
    body: JSON.stringify(rows.map((c) => {
      const t0 = Number(c.window_start);
      return [t0, f(c.open), f(c.high), f(c.low), f(c.close), f(c.volume), t0 + ms - 1, f(c.quote_volume), c.trades, f(c.buy_volume), f(buyQuote.get(t0) ?? 0), '0'];
    })),
  };
}

/** `GET /api/v3/ticker/24hr?symbol=`: the 24 h before the present, from the recorded trades and best bid/offer. */
export function binanceTicker24h(symbol: string, trades: readonly SimTrade[], best: { b: string; B: string; a: string; A: string } | undefined): RestReply {
  const last = trades.at(-1);
  const from = (last?.tsUs ?? 0) - 86_400_000_000;
  const day = trades.filter((t) => t.tsUs > from);
  const f = (x: number): string => x.toFixed(8);
  const open = day[0]?.price ?? 0;
  const close = last?.price ?? 0;
  const volume = day.reduce((s, t) => s + t.size, 0);
  const quote = day.reduce((s, t) => s + t.price * t.size, 0);
  return {
    status: 200,
    body: JSON.stringify({
      symbol, priceChange: f(close - open), priceChangePercent: (open > 0 ? ((close - open) / open) * 100 : 0).toFixed(3),
      weightedAvgPrice: f(volume > 0 ? quote / volume : 0), prevClosePrice: f(open), lastPrice: f(close), lastQty: f(last?.size ?? 0),
      bidPrice: best?.b ?? f(0), bidQty: best?.B ?? f(0), askPrice: best?.a ?? f(0), askQty: best?.A ?? f(0),
      openPrice: f(open), highPrice: f(Math.max(0, ...day.map((t) => t.price))), lowPrice: f(day.length ? Math.min(...day.map((t) => t.price)) : 0),
      volume: f(volume), quoteVolume: f(quote), openTime: Math.floor((day[0]?.tsUs ?? 0) / 1000), closeTime: Math.floor((last?.tsUs ?? 0) / 1000),
      firstId: day[0]?.tradeId ?? -1, lastId: last?.tradeId ?? -1, count: day.length,
    }),
  };
}

/** The newest recorded best bid/offer of a symbol by the present (its `bookTicker` stream). */
function bestOf(feed: RecordedRest, symbol: string): { b: string; B: string; a: string; A: string } | undefined {
  const stream = `${symbol.toLowerCase()}@bookTicker`;
  let last: string | undefined;
  for (const f of feed.framesUntilNow('binance')) if (f.stream === stream) last = f.payload;
  if (last === undefined) return undefined;
  const data = (JSON.parse(last) as { data?: unknown }).data ?? JSON.parse(last);
  return data as { b: string; B: string; a: string; A: string };
}

interface DepthBody { lastUpdateId: number; bids: Level[]; asks: Level[] }

/**
 * `GET /api/v3/depth?symbol=&limit=`: the recording's depth snapshot of the symbol (the
 * newest by the present, else its first), brought to the present by the recorded
 * `depthUpdate`s after it. A recording's snapshot names its symbol in its URL; an
 * hftbacktest one does not, and is the one depth symbol of its file.
 */
export function binanceDepth(feed: RecordedRest, symbol: string, query: URLSearchParams): RestReply {
  const depthStream = (s: string | undefined): boolean => s !== undefined && s.startsWith(`${symbol.toLowerCase()}@depth`);
  const depthSymbols = new Set(feed.framesOf('binance').filter((f) => f.stream?.includes('@depth')).map((f) => f.stream!.split('@')[0]));
  const mine = feed.restsOf('binance').filter((r) => r.body.startsWith('{"lastUpdateId"')).filter((r) => {
    const named = /[?&]symbol=([A-Za-z0-9]+)/.exec(r.url)?.[1];
    return named !== undefined ? named.toUpperCase() === symbol : depthSymbols.size === 1 && depthSymbols.has(symbol.toLowerCase());
  });
  const snap = mine.filter((r) => r.recvNs <= feed.nowNs).at(-1) ?? mine[0];
  if (snap === undefined) return err(-1121, `Invalid symbol: the recording holds no depth snapshot of ${symbol}.`);
  const s = JSON.parse(snap.body) as DepthBody;
  const book = new L2Book(s.bids, s.asks);
  let id = s.lastUpdateId;
  for (const f of feed.framesUntilNow('binance')) {
    // Binance's own rule: every update after the snapshot's id applies, including those received before it arrived.
    if (!depthStream(f.stream)) continue;
    const raw = JSON.parse(f.payload) as { data?: { u: number; b: Level[]; a: Level[] } } & { u: number; b: Level[]; a: Level[] };
    const d = raw.data ?? raw;
    if (d.u <= id) continue;
    for (const [p, q] of d.b) book.set('bids', p, q);
    for (const [p, q] of d.a) book.set('asks', p, q);
    id = d.u;
  }
  const limit = limitOf(query, 100, 5000);
  return { status: 200, body: JSON.stringify({ lastUpdateId: id, bids: book.top('bids', limit), asks: book.top('asks', limit) }) };
}

/** Every route above, for a GET below `/binance/`; undefined: not one of them. */
export function binanceRest(path: string, query: URLSearchParams, { feed, recording, serverTimeMs }: RestContext): RestReply | undefined {
  if (path === '/fapi/v1/exchangeInfo' || path === '/dapi/v1/exchangeInfo') return binanceNoFutures(serverTimeMs);
  if (path === '/api/v3/exchangeInfo') return binanceExchangeInfo(feed, serverTimeMs);
  if (path === '/api/v3/ping') return { status: 200, body: '{}' };
  if (path === '/api/v3/time') return { status: 200, body: JSON.stringify({ serverTime: serverTimeMs }) };
  const route = /^\/api\/v3\/(depth|klines|ticker\/24hr)$/.exec(path)?.[1];
  if (route === undefined) return undefined;
  const symbol = query.get('symbol');
  if (symbol === null || symbol === '') return MISSING_SYMBOL;
  if (!feed.markets('binance').some((m) => m.symbol === symbol)) return BAD_SYMBOL;
  const trades = feed.tradesOf('binance', symbol);
  if (route === 'klines') return binanceKlines(trades, query);
  if (route === 'ticker/24hr') return binanceTicker24h(symbol, trades, recording && bestOf(recording, symbol));
  return recording ? binanceDepth(recording, symbol, query) : undefined;
}
