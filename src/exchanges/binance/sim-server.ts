/**
 * Binance spot's public stream protocol on loopback (protocols.md §1): `/ws/<stream>`
 * raw streams and `/stream?streams=a/b` combined ones; runtime SUBSCRIBE / UNSUBSCRIBE /
 * LIST_SUBSCRIPTIONS with `{"result":…,"id":N}` acks and `{"code":…,"msg":…}` errors; a
 * ping every 20 s (configurable) and a disconnect when no pong comes within a minute;
 * more than 5 incoming messages a second closes the connection (1008).
 */
import { binanceCombined, binanceRestTrades, binanceStream } from './wire.ts';
import { tradeDecimals, type SimEvent, type SimTrade } from '../../sim/market.ts';
import { SimConnection, type ConnContext, type RecordedFrame, type SimSocket } from '../../sim/connection.ts';
import { badParam, shown, tradeTexts, type SimProtocol } from '../../sim/protocol.ts';
import { binanceRest } from './sim-rest.ts';

export interface BinanceOptions {
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
  readonly maxIncomingPerSecond: number;
}

const DEFAULTS: BinanceOptions = { pingIntervalMs: 20_000, pongTimeoutMs: 60_000, maxIncomingPerSecond: 5 };

/** Binance allows 1024 streams per connection (protocols.md §1); so does the simulator. */
const MAX_STREAMS = 1024;

export class BinanceConnection extends SimConnection {
  private readonly streams = new Set<string>();
  private lastPongMs: number;
  private incoming: number[] = [];

  constructor(ws: SimSocket, ctx: ConnContext, url: URL, private readonly opts: BinanceOptions, private readonly combined: boolean) {
    super('binance', ws, ctx);
    // Only `symbol@channel` names a stream: ccxt connects to `/ws/<n>`, a path Binance accepts and ignores.
    const initial = (combined ? (url.searchParams.get('streams') ?? '').split('/') : [url.pathname.replace(/^.*\/ws\/?/, '')]).filter((s) => s.includes('@'));
    this.lastPongMs = ctx.nowMs();
    ws.on('pong', () => {
      this.lastPongMs = ctx.nowMs();
    });
    ws.on('message', (data) => this.onMessage(String(data)));
    this.every(opts.pingIntervalMs, () => {
      if (ctx.faults.stalled(ctx.nowMs())) return;
      if (ctx.nowMs() - this.lastPongMs > opts.pongTimeoutMs) {
        this.close('terminate');
        return;
      }
      ws.ping(String(ctx.nowMs()));
    });
    // A URL naming a stream the recording does not hold is closed at once, never left silent.
    const missing = this.missing(initial);
    if (missing !== undefined) this.close('close', 1008, `stream ${shown(missing)} is not in this recording`);
    else this.subscribe(initial.filter((s) => s !== ''));
  }

  private onMessage(text: string): void {
    const now = this.ctx.nowMs();
    this.incoming = this.incoming.filter((t) => now - t < 1000);
    this.incoming.push(now);
    if (this.incoming.length > this.opts.maxIncomingPerSecond) {
      this.close('close', 1008, 'Too many requests');
      return;
    }
    const req = this.request<{ method?: unknown; params?: unknown; id?: unknown }>(
      text, '{"code":3,"msg":"Invalid JSON: expected value at line 1 column 1","id":null}', '{"code":3,"msg":"Invalid request: expected an object","id":null}',
    );
    if (req === undefined) return;
    const id = typeof req.id === 'number' || typeof req.id === 'string' ? JSON.stringify(req.id) : 'null';
    const params = Array.isArray(req.params) ? req.params.filter((p): p is string => typeof p === 'string') : [];
    switch (req.method) {
      case 'SUBSCRIBE': {
        const missing = this.missing(params);
        if (missing !== undefined) {
          this.send(`{"code":2,"msg":${JSON.stringify(`Invalid request: stream ${shown(missing)} is not in this recording`)},"id":${id}}`);
          return;
        }
        this.subscribe(params);
        this.send(`{"result":null,"id":${id}}`);
        return;
      }
      case 'UNSUBSCRIBE':
        for (const p of params) this.streams.delete(p);
        this.send(`{"result":null,"id":${id}}`);
        return;
      case 'LIST_SUBSCRIPTIONS':
        this.send(`{"result":${JSON.stringify([...this.streams].sort())},"id":${id}}`);
        return;
      default:
        this.send(`{"code":2,"msg":${JSON.stringify(`Invalid request: unknown variant ${shown(req.method)}`)},"id":${id}}`);
    }
  }

  /** The first of these streams a re-served recording does not hold (it would stay silent forever). */
  private missing(streams: readonly string[]): string | undefined {
    const r = this.ctx.recording;
    return r === undefined ? undefined : streams.find((s) => s !== '' && !r.holds('binance', s));
  }

  /** Adds the streams (up to the cap); in archive mode each new one plays from the slice's start. */
  private subscribe(streams: readonly string[]): void {
    const added: string[] = [];
    for (const s of streams) {
      if (this.streams.size >= MAX_STREAMS || this.streams.has(s)) continue;
      this.streams.add(s);
      added.push(s);
    }
    if (added.length > 0) this.ctx.recording?.play(this, added);
  }

  onMarket(e: SimEvent, payload: string): void {
    const stream = binanceStream(e.symbol, e.kind === 'trade' ? 'trade' : 'bookTicker');
    if (!this.streams.has(stream)) return;
    this.send(this.combined ? binanceCombined(stream, payload) : payload);
  }

  onRecorded(f: RecordedFrame): void {
    if (f.stream === undefined || !this.streams.has(f.stream)) return;
    const data = COMBINED.exec(f.payload)?.[2];
    this.send(this.combined ? (data !== undefined ? f.payload : binanceCombined(f.stream, f.payload)) : data ?? f.payload);
  }

  /** Announces a shutdown the way Binance does before maintenance, then closes. */
  override shutdown(): void {
    const data = `{"e":"serverShutdown","E":${Math.floor(this.eventTimeUs() / 1000)}}`;
    this.send(this.combined ? binanceCombined('!serverShutdown', data) : data);
    this.close('close', 1001, 'server shutdown');
  }

  malformed(): string {
    return this.combined ? '{"stream":"btcusdt@trade","data":{"e":"trade","E":17' : '{"e":"trade","E":17';
  }

  unknown(): string {
    const data = `{"e":"brandNewEvent","E":${Math.floor(this.eventTimeUs() / 1000)},"s":"BTCUSDT"}`;
    return this.combined ? binanceCombined('btcusdt@brandNew', data) : data;
  }
}

/** `GET /api/v3/historicalTrades?symbol=&fromId=&limit=`: trades with id ≥ fromId, oldest first. */
export function binanceHistoricalTrades(trades: readonly SimTrade[], query: URLSearchParams): { status: number; body: string } {
  const bad = badParam(query, ['fromId', 'limit']);
  if (bad) return { status: 400, body: `{"code":-1100,"msg":"Illegal characters found in parameter '${bad}'."}` };
  const fromId = Number(query.get('fromId') ?? 0);
  const limit = Math.min(1000, Math.max(1, Number(query.get('limit') ?? 500)));
  const rows = trades.filter((t) => t.tradeId >= fromId).slice(0, limit);
  return { status: 200, body: binanceRestTrades(rows) };
}

/** `GET /api/v3/trades?symbol=&limit=`: the most recent trades, oldest first. */
export function binanceRecentTrades(trades: readonly SimTrade[], query: URLSearchParams): { status: number; body: string } {
  const bad = badParam(query, ['limit']);
  if (bad) return { status: 400, body: `{"code":-1100,"msg":"Illegal characters found in parameter '${bad}'."}` };
  const limit = Math.min(1000, Math.max(1, Number(query.get('limit') ?? 500)));
  return { status: 200, body: binanceRestTrades(trades.slice(-limit)) };
}

/**
 * `GET /api/v3/aggTrades?symbol=&fromId=&startTime=&endTime=&limit=`: each trade is its own
 * aggregate (a = f = l = id). As on Binance: from `fromId`, or within [startTime, endTime]
 * oldest first, else the newest `limit`.
 */
export function binanceAggTrades(trades: readonly SimTrade[], query: URLSearchParams): { status: number; body: string } {
  const bad = badParam(query, ['fromId', 'startTime', 'endTime', 'limit']);
  if (bad) return { status: 400, body: `{"code":-1100,"msg":"Illegal characters found in parameter '${bad}'."}` };
  const limit = Math.min(1000, Math.max(1, Number(query.get('limit') ?? 500)));
  const ms = (t: SimTrade): number => Math.floor(t.tsUs / 1000);
  const start = Number(query.get('startTime') ?? Number.NEGATIVE_INFINITY);
  const end = Number(query.get('endTime') ?? Number.POSITIVE_INFINITY);
  const picked = query.has('fromId') ? trades.filter((t) => t.tradeId >= Number(query.get('fromId'))).slice(0, limit)
    : query.has('startTime') || query.has('endTime') ? trades.filter((t) => ms(t) >= start && ms(t) <= end).slice(0, limit)
      : trades.slice(-limit);
  const rows = picked.map((t) => {
    const d = tradeDecimals(t, 8);
    return `{"a":${t.tradeId},"p":"${d.price}","q":"${d.size}","f":${t.tradeId},"l":${t.tradeId},"T":${Math.floor(t.tsUs / 1000)},"m":${t.side === 'sell'},"M":true}`;
  });
  return { status: 200, body: `[${rows.join(',')}]` };
}

/** A combined-stream envelope: its stream and its data, as text. */
const COMBINED = /^\{"stream":"([^"]+)","data":([\s\S]*)\}$/;

/** The stream a recorded frame belongs to: combined recordings carry it; raw ones are named from the event and symbol. */
export function binanceStreamOf(payload: string): string | undefined {
  return COMBINED.exec(payload)?.[1] ?? rawStream(payload);
}

function rawStream(payload: string): string | undefined {
  const s = /"s":"([A-Z0-9]+)"/.exec(payload)?.[1]?.toLowerCase();
  if (s === undefined) return undefined;
  const e = /"e":"([A-Za-z]+)"/.exec(payload)?.[1];
  return `${s}@${e === undefined ? 'bookTicker' : e === 'depthUpdate' ? 'depth' : e}`;
}

/** `/binance/ws/<stream>` (raw) or `/binance/stream?streams=…` (combined). */
const PATH = /^\/binance\/(ws|stream)(\/|$)/;

/** The simulator's Binance: its WebSocket paths and connections, its REST routes, and how to read its recorded frames. */
export const binanceSimServer: SimProtocol = {
  accepts: (url) => PATH.test(url.pathname),
  connect: (ws, ctx, url, _feed, o) => new BinanceConnection(ws, ctx, url, { ...DEFAULTS, ...o }, PATH.exec(url.pathname)![1] === 'stream'),
  rest: (pathname, query, at) => {
    const hist = /^\/binance\/api\/v3\/(historicalTrades|aggTrades|trades)$/.exec(pathname);
    if (!hist) return binanceRest(pathname.slice('/binance'.length), query, at);
    const symbol = query.get('symbol') ?? '';
    // A market of the recording whose first trade the replay has not reached yet is known, and empty.
    if (!at.feed.markets('binance').some((m) => m.symbol === symbol)) return { status: 400, body: '{"code":-1121,"msg":"Invalid symbol."}' };
    const trades = at.feed.tradesOf('binance', symbol);
    const handler = hist[1] === 'aggTrades' ? binanceAggTrades : hist[1] === 'trades' ? binanceRecentTrades : binanceHistoricalTrades;
    return handler(trades, query);
  },
  isTrade: (payload) => payload.includes('"e":"trade"'),
  streamOf: binanceStreamOf,
  symbolOf: (stream) => stream.split('@')[0]!,
  tradeText: (payload) => tradeTexts(payload, /"p":"([^"]+)"/, /"q":"([^"]+)"/),
};
