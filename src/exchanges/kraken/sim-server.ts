/**
 * Kraken's WebSocket v2 protocol on loopback (protocols.md §4): a `status` message on
 * connect; `subscribe` / `unsubscribe` of `trade` and `ticker` with one ack per symbol
 * (failures `success:false`); with `snapshot` (the default) a trade subscription opens
 * with the symbol's 50 most recent trades and a ticker one with its current best bid/offer;
 * `ping` → `pong`; a `heartbeat` each second nothing else was sent while anything is
 * subscribed. REST: `GET /0/public/Trades?pair=&since=&count=`.
 */
import { isoMicros } from '../../log/time.ts';
import { KRAKEN_HEARTBEAT, krakenRestTrades, krakenStatus, krakenSubscribed, krakenTicker, krakenTrades } from './wire.ts';
import type { SimEvent, SimTrade } from '../../sim/market.ts';
import { SimConnection, type ConnContext, type RecordedFrame, type SimSocket } from '../../sim/connection.ts';
import type { TradeLog } from '../../sim/feed.ts';
import { badParam, shown, tradeTexts, type SimProtocol } from '../../sim/protocol.ts';

type Channel = 'trade' | 'ticker';
const CHANNELS: readonly Channel[] = ['trade', 'ticker'];

/** Trades in the snapshot a trade subscription opens with (the documented count). */
export const KRAKEN_SNAPSHOT_TRADES = 50;

/** Symbols one connection may subscribe to per channel: bounds a client's hold on memory. */
const MAX_SYMBOLS = 1_000;

/** The stream of a market-data message (`trade:BTC/USD`); undefined for status, heartbeats and acks. */
export function krakenStreamOf(payload: string): string | undefined {
  const channel = /^\{"channel":"(trade|ticker)"/.exec(payload)?.[1];
  const symbol = /"symbol":"([^"]+)"/.exec(payload)?.[1];
  return channel !== undefined && symbol !== undefined ? `${channel}:${symbol}` : undefined;
}

interface Request { method?: unknown; params?: { channel?: unknown; symbol?: unknown; snapshot?: unknown }; req_id?: unknown }

export class KrakenConnection extends SimConnection {
  private readonly subs = new Map<Channel, Set<string>>(CHANNELS.map((c) => [c, new Set<string>()]));
  private lastSentMs: number;
  private static nextConnectionId = 12_893_211_177_773_849_016n;

  constructor(ws: SimSocket, ctx: ConnContext, private readonly feed: TradeLog) {
    super('kraken', ws, ctx);
    this.lastSentMs = ctx.nowMs();
    ws.on('message', (data) => this.onMessage(String(data)));
    this.send(krakenStatus(KrakenConnection.nextConnectionId++));
    this.every(250, () => {
      const now = ctx.nowMs();
      const any = CHANNELS.some((c) => this.subs.get(c)!.size > 0);
      if (any && now - this.lastSentMs >= 1_000) this.send(KRAKEN_HEARTBEAT);
    });
  }

  override send(payload: string): void {
    this.lastSentMs = this.ctx.nowMs();
    super.send(payload);
  }

  /** An answer to `req` (`method` named as asked, unless told), with its `req_id` if it had one. */
  private reply(req: Request, fields: string, method = typeof req.method === 'string' ? req.method.slice(0, 100) : ''): void {
    const at = isoMicros(this.eventTimeUs());
    const id = typeof req.req_id === 'number' && Number.isSafeInteger(req.req_id) ? `,"req_id":${req.req_id}` : '';
    this.send(`{"method":${JSON.stringify(method)}${fields},"time_in":"${at}","time_out":"${at}"${id}}`);
  }

  private onMessage(text: string): void {
    const req = this.request<Request>(text, '{"error":"JSON parse error","success":false}', '{"error":"Invalid request","success":false}');
    if (req === undefined) return;
    if (req.method === 'ping') return this.reply(req, '', 'pong');
    if (req.method !== 'subscribe' && req.method !== 'unsubscribe') return this.reply(req, `,"error":${JSON.stringify(`Method not found: ${shown(req.method)}`)},"success":false`);
    const p = typeof req.params === 'object' && req.params !== null ? req.params : {};
    const channel = p.channel as Channel;
    if (!CHANNELS.includes(channel)) return this.reply(req, `,"error":${JSON.stringify(`Channel ${shown(p.channel)} not supported`)},"success":false`);
    const symbols = Array.isArray(p.symbol) ? p.symbol.filter((s): s is string => typeof s === 'string') : [];
    if (symbols.length === 0) return this.reply(req, ',"error":"Symbol list is empty","success":false');
    const subs = this.subs.get(channel)!;
    const reqId = typeof req.req_id === 'number' && Number.isSafeInteger(req.req_id) ? req.req_id : undefined;
    for (const symbol of symbols) {
      if (req.method === 'unsubscribe') {
        subs.delete(symbol);
        this.reply(req, `,"result":{"channel":"${channel}","symbol":${JSON.stringify(symbol)}},"success":true`);
        continue;
      }
      const r = this.ctx.recording;
      if ((r !== undefined && !r.holds('kraken', `${channel}:${symbol}`)) || (!subs.has(symbol) && subs.size >= MAX_SYMBOLS)) {
        this.reply(req, `,"error":${JSON.stringify(`Currency pair not supported ${shown(symbol)}`)},"success":false,"symbol":${JSON.stringify(shown(symbol))}`);
        continue;
      }
      const added = !subs.has(symbol);
      subs.add(symbol);
      this.send(krakenSubscribed(channel, symbol, reqId, this.eventTimeUs()));
      if (!added) continue;
      // A recording holds its own snapshots: its playback, from the slice's start, serves them.
      if (r !== undefined) r.play(this, [`${channel}:${symbol}`]);
      else if (p.snapshot !== false) this.snapshot(channel, symbol);
    }
  }

  /** What a new subscription opens with: the newest trades, or the current best bid/offer (when the market has quoted). */
  private snapshot(channel: Channel, symbol: string): void {
    if (channel === 'trade') {
      this.send(krakenTrades('snapshot', this.feed.tradesOf('kraken', symbol).slice(-KRAKEN_SNAPSHOT_TRADES)));
      return;
    }
    const q = this.feed.lastQuote('kraken', symbol);
    if (q !== undefined) this.send(krakenTicker('snapshot', q, this.feed.lastTrade('kraken', symbol)?.price));
  }

  onMarket(e: SimEvent, payload: string): void {
    if (this.subs.get(e.kind === 'trade' ? 'trade' : 'ticker')!.has(e.symbol)) this.send(payload);
  }

  onRecorded(f: RecordedFrame): void {
    const [channel, symbol] = (f.stream ?? '').split(/:(.*)/) as [Channel, string | undefined];
    if (symbol !== undefined && this.subs.get(channel)?.has(symbol)) this.send(f.payload);
  }

  /** Kraken announces maintenance in a status message, then closes. */
  override shutdown(): void {
    this.send('{"channel":"status","type":"update","data":[{"version":"2.0.9","system":"maintenance","api_version":"v2","connection_id":0}]}');
    this.close('close', 1001, 'server shutdown');
  }

  malformed(): string {
    return '{"channel":"trade","type":"update","data":[{"symbol":';
  }

  unknown(): string {
    return `{"channel":"brand_new_channel","type":"update","data":[],"timestamp":"${isoMicros(this.eventTimeUs())}"}`;
  }
}

/**
 * `GET /0/public/Trades?pair=BTCUSD&since=&count=`: trades after `since` (ns, the `last` cursor
 * of a previous page, or seconds), oldest first, at most `count` (1000); without `since`, the
 * last `count` trades (Kraken: "returns the last 1000 trades by default"), oldest first.
 * Errors come with status 200 in Kraken's `error` list.
 */
export function krakenTradesReply(feed: TradeLog, query: URLSearchParams): { status: number; body: string } {
  const bad = badParam(query, ['count']) ?? (query.has('since') && !/^\d{1,20}(\.\d{1,9})?$/.test(query.get('since')!) ? 'since' : undefined);
  if (bad) return { status: 200, body: `{"error":["EGeneral:Invalid arguments:${bad}"]}` };
  const pair = query.get('pair') ?? '';
  const market = feed.markets('kraken').find((m) => m.symbol.replace('/', '') === pair);
  if (market === undefined) return { status: 200, body: '{"error":["EQuery:Unknown asset pair"]}' };
  const since = query.get('since');
  const count = Math.min(1000, Math.max(1, Number(query.get('count') ?? 1000)));
  const trades = feed.tradesOf('kraken', market.symbol);
  if (since === null) return { status: 200, body: krakenRestTrades(trades.slice(-count), pair) };
  // Past 2^53 ns a Number is not exact: the ns cursor is read as an integer.
  const sinceUs = /^\d{13,}$/.test(since) ? Number(BigInt(since) / 1000n) : Number(since) * 1e6;
  const rows: SimTrade[] = trades.filter((t) => t.tsUs > sinceUs).slice(0, count);
  return { status: 200, body: krakenRestTrades(rows, pair) };
}

/** The simulator's Kraken: `/kraken/v2` (or `/kraken`), its REST route, and how to read its recorded frames. */
export const krakenSimServer: SimProtocol = {
  accepts: (url) => /^\/kraken(\/v2)?\/?$/.test(url.pathname),
  connect: (ws, ctx, _url, feed) => new KrakenConnection(ws, ctx, feed),
  rest: (pathname, query, at) => (pathname === '/kraken/0/public/Trades' ? krakenTradesReply(at.feed, query) : undefined),
  isTrade: (payload) => payload.startsWith('{"channel":"trade"'),
  streamOf: krakenStreamOf,
  symbolOf: (stream) => stream.slice(stream.indexOf(':') + 1),
  // Prices and sizes are JSON numbers: the recorded digits are the text.
  tradeText: (payload) => tradeTexts(payload, /"price":([0-9.eE+-]+)/, /"qty":([0-9.eE+-]+)/),
};
