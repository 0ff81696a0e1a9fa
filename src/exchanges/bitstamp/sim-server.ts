/**
 * Bitstamp's WebSocket v2 protocol on loopback (protocols.md §5): `bts:subscribe` /
 * `bts:unsubscribe` per channel (`live_trades_<pair>`, `order_book_<pair>`) with their
 * `bts:subscription_succeeded` acks and `bts:error` for what it cannot serve, an answer to
 * each client `bts:heartbeat`, and `bts:request_reconnect` before a shutdown. REST:
 * `GET /api/v2/transactions/{pair}/?time=minute|hour|day`, newest first.
 */
import { BITSTAMP_HEARTBEAT, BITSTAMP_RECONNECT, bitstampSubscribed, bitstampTransactions } from './wire.ts';
import type { SimEvent, SimTrade } from '../../sim/market.ts';
import { SimConnection, type ConnContext, type RecordedFrame, type SimSocket } from '../../sim/connection.ts';
import { shown, tradeTexts, type SimProtocol } from '../../sim/protocol.ts';

/** The channels the simulator serves: the market's trades and its top of book. */
const CHANNEL = /^(live_trades|order_book)_([a-z0-9]+)$/;

/** Channels one connection may hold: bounds a client's hold on memory. */
const MAX_CHANNELS = 1_000;

/** How long a client has to leave after `bts:request_reconnect` before the server closes on it. */
const RECONNECT_GRACE_MS = 1_000;

/** The channel a frame belongs to (`live_trades_btcusd`); undefined for control events (acks, heartbeats, errors). */
export function bitstampStreamOf(payload: string): string | undefined {
  if (!/"event": ?"(trade|data)"/.test(payload)) return undefined;
  return /"channel": ?"([a-z_0-9]+)"/.exec(payload)?.[1];
}

const error = (message: string): string => `{"event":"bts:error","channel":"","data":{"code":null,"message":${JSON.stringify(message)}}}`;

export class BitstampConnection extends SimConnection {
  private readonly channels = new Set<string>();

  constructor(ws: SimSocket, ctx: ConnContext) {
    super('bitstamp', ws, ctx);
    ws.on('message', (data) => this.onMessage(String(data)));
  }

  private onMessage(text: string): void {
    const msg = this.request<{ event?: unknown; data?: { channel?: unknown } }>(text, error('Bad subscription string.'), error('Bad subscription string.'));
    if (msg === undefined) return;
    if (msg.event === 'bts:heartbeat') {
      this.send(BITSTAMP_HEARTBEAT);
      return;
    }
    const channel = typeof msg.data === 'object' && msg.data !== null ? msg.data.channel : undefined;
    if (msg.event !== 'bts:subscribe' && msg.event !== 'bts:unsubscribe') {
      this.send(error(`Unknown event ${shown(msg.event)}.`));
      return;
    }
    if (typeof channel !== 'string' || !CHANNEL.test(channel)) {
      this.send(error(`Invalid channel ${shown(channel)}.`));
      return;
    }
    if (msg.event === 'bts:unsubscribe') {
      this.channels.delete(channel);
      this.send(`{"event":"bts:unsubscription_succeeded","channel":"${channel}","data":{}}`);
      return;
    }
    const r = this.ctx.recording;
    if (r !== undefined && !r.holds('bitstamp', channel)) {
      this.send(error(`Channel ${channel} is not in this recording.`));
      return;
    }
    if (this.channels.size >= MAX_CHANNELS) {
      this.send(error('Too many channels.'));
      return;
    }
    const added = !this.channels.has(channel);
    this.channels.add(channel);
    this.send(bitstampSubscribed(channel));
    if (added) r?.play(this, [channel]);
  }

  onMarket(e: SimEvent, payload: string): void {
    if (this.channels.has(`${e.kind === 'trade' ? 'live_trades' : 'order_book'}_${e.symbol}`)) this.send(payload);
  }

  onRecorded(f: RecordedFrame): void {
    if (f.stream !== undefined && this.channels.has(f.stream)) this.send(f.payload);
  }

  /** Asks the client to reconnect, as Bitstamp does before maintenance, and closes on it if it stays. */
  override shutdown(): void {
    this.send(BITSTAMP_RECONNECT);
    this.after(RECONNECT_GRACE_MS, () => this.close('close', 1001, 'server shutdown'));
  }

  malformed(): string {
    return '{"data":{"id":';
  }

  unknown(): string {
    return '{"event":"bts:brand_new_event","channel":"","data":{}}';
  }
}

const WINDOW_S = { minute: 60, hour: 3_600, day: 86_400 } as const;

/** `GET /api/v2/transactions/{pair}/?time=`: the pair's trades of the last minute, hour (default) or day before `nowMs`, newest first. */
export function bitstampTransactionsReply(trades: readonly SimTrade[], query: URLSearchParams, nowMs: number): { status: number; body: string } {
  const time = query.get('time') ?? 'hour';
  if (!Object.hasOwn(WINDOW_S, time)) return { status: 400, body: '{"status":"error","reason":{"time":["Select a valid choice."]},"code":"API0007"}' };
  const fromUs = (nowMs - WINDOW_S[time as keyof typeof WINDOW_S] * 1000) * 1000;
  return { status: 200, body: bitstampTransactions(trades.filter((t) => t.tsUs > fromUs)) };
}

/** The simulator's Bitstamp: `/bitstamp` (the real URL also takes a trailing slash), its REST route, and how to read its recorded frames. */
export const bitstampSimServer: SimProtocol = {
  accepts: (url) => url.pathname.replace(/\/$/, '') === '/bitstamp',
  connect: (ws, ctx) => new BitstampConnection(ws, ctx),
  rest: (pathname, query, at) => {
    const tx = /^\/bitstamp\/api\/v2\/transactions\/([a-z0-9]+)\/?$/.exec(pathname);
    if (!tx || !at.feed.markets('bitstamp').some((m) => m.symbol === tx[1])) return undefined;
    return bitstampTransactionsReply(at.feed.tradesOf('bitstamp', tx[1]!), query, at.serverTimeMs);
  },
  isTrade: (payload) => /"event": ?"trade"/.test(payload),
  streamOf: bitstampStreamOf,
  symbolOf: (stream) => stream.slice(stream.lastIndexOf('_') + 1),
  tradeText: (payload) => tradeTexts(payload, /"price_str": ?"([^"]+)"/, /"amount_str": ?"([^"]+)"/),
};
