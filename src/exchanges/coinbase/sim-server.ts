/**
 * Coinbase Exchange's `ws-feed` protocol on loopback (protocols.md §2): subscribe within
 * 5 s or be disconnected; a `subscriptions` reply listing the cumulative set; `matches`
 * (with one `last_match` per product on subscribe), `ticker`, and `heartbeat` every second
 * per product carrying `last_trade_id`.
 */
import { isoMicros } from '../../log/time.ts';
import { coinbaseHeartbeat, coinbaseMatch, coinbaseRestTrades } from './wire.ts';
import type { SimEvent, SimTrade } from '../../sim/market.ts';
import { SimConnection, type ConnContext, type RecordedFrame, type SimSocket } from '../../sim/connection.ts';
import type { TradeLog } from '../../sim/feed.ts';
import { decodePathPart } from '../../sim/http-refusal.ts';
import { badParam, shown, tradeTexts, type SimProtocol } from '../../sim/protocol.ts';
import { coinbaseCarried, coinbaseRest } from './sim-rest.ts';

export interface CoinbaseOptions {
  readonly subscribeTimeoutMs: number;
  readonly heartbeatMs: number;
}

const DEFAULTS: CoinbaseOptions = { subscribeTimeoutMs: 5_000, heartbeatMs: 1_000 };

type Channel = 'matches' | 'ticker' | 'heartbeat' | 'level2';
const CHANNELS: readonly Channel[] = ['matches', 'ticker', 'heartbeat', 'level2'];
/** Which channel a recorded message belongs to; control messages (subscriptions, errors) are the connection's own. */
const CHANNEL_OF: Record<string, Channel> = { match: 'matches', last_match: 'matches', ticker: 'ticker', snapshot: 'level2', l2update: 'level2' };

/** A stream of the façade: one channel of one product, e.g. `matches:BTC-USD`. */
const streamName = (channel: Channel, product: string): string => `${channel}:${product}`;

/** The stream a recorded frame belongs to; undefined for control messages (subscriptions, errors). */
export function coinbaseStreamOf(payload: string): string | undefined {
  const type = /"type":"([a-z_0-9]+)"/.exec(payload)?.[1];
  const product = /"product_id":"([^"]+)"/.exec(payload)?.[1];
  const channel = type === undefined ? undefined : CHANNEL_OF[type];
  return channel !== undefined && product !== undefined ? streamName(channel, product) : undefined;
}

/** Products one connection may subscribe to per channel: bounds a client's hold on memory. */
const MAX_PRODUCTS = 1_000;

export class CoinbaseConnection extends SimConnection {
  private readonly subs = new Map<Channel, Set<string>>(CHANNELS.map((c) => [c, new Set<string>()]));
  private subscribed = false;
  private sequence = 1;

  constructor(ws: SimSocket, ctx: ConnContext, private readonly feed: TradeLog, opts: CoinbaseOptions) {
    super('coinbase', ws, ctx);
    ws.on('message', (data) => this.onMessage(String(data)));
    this.after(opts.subscribeTimeoutMs, () => {
      if (!this.subscribed) this.close('close', 1000, 'subscribe timeout');
    });
    this.every(opts.heartbeatMs, () => {
      for (const product of [...this.subs.get('heartbeat')!].sort()) {
        const last = feed.lastTrade('coinbase', product);
        this.send(coinbaseHeartbeat(product, this.sequence++, last?.tradeId ?? 0, this.eventTimeUs()));
      }
    });
  }

  private onMessage(text: string): void {
    const msg = this.request<{ type?: unknown; product_ids?: unknown; channels?: unknown }>(
      text, '{"type":"error","message":"Malformed JSON","reason":"invalid character"}', '{"type":"error","message":"Failed to subscribe","reason":"message is not an object"}',
    );
    if (msg === undefined) return;
    if (msg.type !== 'subscribe' && msg.type !== 'unsubscribe') {
      this.send(`{"type":"error","message":"Failed to subscribe","reason":${JSON.stringify(`${shown(msg.type)} is not a valid type`)}}`);
      return;
    }
    const products = Array.isArray(msg.product_ids) ? msg.product_ids.filter((p): p is string => typeof p === 'string') : [];
    const channels = Array.isArray(msg.channels) ? msg.channels : [];
    if (channels.length === 0) {
      this.send('{"type":"error","message":"Failed to subscribe","reason":"No channels provided"}');
      return;
    }
    const asked: [Channel, string][] = [];
    for (const c of channels) {
      if (typeof c !== 'string' && (typeof c !== 'object' || c === null)) continue;
      const name = typeof c === 'string' ? c : (c as { name?: unknown }).name;
      const ids = typeof c === 'object' && c !== null && Array.isArray((c as { product_ids?: unknown }).product_ids)
        ? ((c as { product_ids: unknown[] }).product_ids.filter((p): p is string => typeof p === 'string'))
        : products;
      if (CHANNELS.includes(name as Channel)) for (const id of ids) asked.push([name as Channel, id]);
    }
    const missing = msg.type === 'subscribe' ? asked.find(([c, id]) => !this.holds(c, id)) : undefined;
    if (missing !== undefined) {
      this.send(`{"type":"error","message":"Failed to subscribe","reason":${JSON.stringify(`${missing[0]} ${shown(missing[1])} is not in this recording`)}}`);
      return;
    }
    const added: string[] = [];
    const streams: string[] = [];
    for (const [name, id] of asked) {
      const subs = this.subs.get(name)!;
      if (msg.type === 'unsubscribe') subs.delete(id);
      else if (subs.size < MAX_PRODUCTS && !subs.has(id)) {
        if (name === 'matches') added.push(id);
        streams.push(streamName(name, id));
        subs.add(id);
      }
    }
    this.subscribed = true;
    const listed = CHANNELS.filter((c) => this.subs.get(c)!.size > 0)
      .map((c) => `{"name":"${c}","product_ids":${JSON.stringify([...this.subs.get(c)!].sort())}}`);
    this.send(`{"type":"subscriptions","channels":[${listed.join(',')}]}`);
    // A recording holds its own last_match frames and level2 snapshots: its playback, from
    // the slice's start, serves them.
    if (this.ctx.recording) {
      if (streams.length > 0) this.ctx.recording.play(this, streams);
      return;
    }
    // Right after subscribing to matches, Coinbase sends each product's latest trade.
    for (const id of added) {
      const last = this.feed.lastTrade('coinbase', id);
      if (last) this.send(coinbaseMatch(last, this.sequence++, 'last_match'));
    }
  }

  /** Whether a subscription can be served: always from the synthetic market; from a recording, when it holds the stream (heartbeats: any frame of the product). */
  private holds(channel: Channel, product: string): boolean {
    const r = this.ctx.recording;
    if (r === undefined) return true;
    const channels = channel === 'heartbeat' ? CHANNELS : [channel];
    return channels.some((c) => r.holds('coinbase', streamName(c, product)));
  }

  onMarket(e: SimEvent, payload: string): void {
    if (this.subs.get(e.kind === 'trade' ? 'matches' : 'ticker')!.has(e.symbol)) this.send(payload);
  }

  onRecorded(f: RecordedFrame): void {
    const [channel, product] = (f.stream ?? '').split(':') as [Channel, string | undefined];
    if (product !== undefined && this.subs.get(channel)?.has(product)) this.send(f.payload);
  }

  malformed(): string {
    return '{"type":"match","trade_id":';
  }

  unknown(): string {
    return `{"type":"brand_new_type","time":"${isoMicros(this.eventTimeUs())}"}`;
  }
}

/** `GET /products/{id}/trades?after=&limit=`: trades older than `after`, newest first. */
export function coinbaseTrades(trades: readonly SimTrade[], query: URLSearchParams): { status: number; body: string; headers: Record<string, string> } {
  const bad = badParam(query, ['after', 'limit']);
  if (bad) return { status: 400, body: `{"message":"invalid ${bad}"}`, headers: {} };
  const after = query.has('after') ? Number(query.get('after')) : Number.POSITIVE_INFINITY;
  const limit = Math.min(1000, Math.max(1, Number(query.get('limit') ?? 100)));
  const rows = trades.filter((t) => t.tradeId < after).slice(-limit);
  const headers: Record<string, string> = {};
  if (rows.length > 0) {
    headers['cb-before'] = String(rows.at(-1)!.tradeId);
    headers['cb-after'] = String(rows[0]!.tradeId);
  }
  return { status: 200, body: coinbaseRestTrades(rows), headers };
}

/** The simulator's Coinbase: `/coinbase` (the real URL also takes a trailing slash), its REST routes, and how to read its recorded frames. */
export const coinbaseSimServer: SimProtocol = {
  accepts: (url) => url.pathname.replace(/\/$/, '') === '/coinbase',
  connect: (ws, ctx, _url, feed, o) => new CoinbaseConnection(ws, ctx, feed, { ...DEFAULTS, ...o }),
  rest: (pathname, query, at) => {
    const cb = /^\/coinbase\/products\/([^/]+)\/trades$/.exec(pathname);
    if (!cb) return coinbaseRest(pathname.slice('/coinbase'.length), query, at);
    const product = decodePathPart(cb[1]!);
    if (!at.feed.markets('coinbase').some((m) => m.symbol === product)) return { status: 404, body: '{"message":"NotFound"}' };
    return coinbaseTrades(at.feed.tradesOf('coinbase', product), query);
  },
  isTrade: (payload) => payload.includes('"type":"match"'),
  streamOf: coinbaseStreamOf,
  symbolOf: (stream) => stream.slice(stream.indexOf(':') + 1),
  tradeText: (payload) => tradeTexts(payload, /"price":"([^"]+)"/, /"size":"([^"]+)"/),
  carried: coinbaseCarried,
};
