/**
 * CryptoCompare's streamer v2 on loopback (protocols.md §5b, the published spec; no real
 * capture exists, so this server is the only peer the adapter has met): an `api_key` on the
 * URL or `401 UNAUTHORIZED`; the `20` welcome; `SubAdd` / `SubRemove` of `0~<M>~<BASE>~<QUOTE>`
 * (trades: the market's last 20 trades replayed first, as the real streamer does on every
 * subscribe) and `30~…` (top of book: the current one first), each acknowledged by `16`
 * (`17` for a removal), then `3` LOADCOMPLETE; `500` for what it cannot serve; a `999`
 * heartbeat every `heartbeatMs` (30 s); `500 FORCE_DISCONNECT` before a shutdown. Several
 * markets on one socket, all from the same simulated market.
 */
import type { SimEvent } from '../../sim/market.ts';
import { SimConnection, type ConnContext, type RecordedFrame, type SimSocket } from '../../sim/connection.ts';
import type { TradeLog } from '../../sim/feed.ts';
import { shown, tradeTexts, type ProtocolOptions, type SimProtocol } from '../../sim/protocol.ts';
import { CC_FORCE_DISCONNECT, CC_LOADCOMPLETE, ccError, ccHeartbeat, ccSubscribed, ccTopOfBook, ccTrade, ccWelcome } from './wire.ts';

/** Trades a trade subscription opens with (the documented count). */
export const CC_REPLAYED_TRADES = 20;

/** Subscriptions one socket may hold: bounds a client's hold on memory. */
const MAX_SUBS = 1_000;

const SUB = /^(0|30)~([A-Za-z0-9.]+)~([A-Z0-9]+)~([A-Z0-9]+)$/;

/** The subscription a market frame belongs to (`0~Coinbase~BTC~USD`); undefined for control frames. */
export function ccStreamOf(payload: string): string | undefined {
  const t = /^\{"TYPE":"(0|30)","M":"([^"]+)","FSYM":"([^"]+)","TSYM":"([^"]+)"/.exec(payload);
  return t ? `${t[1]}~${t[2]}~${t[3]}~${t[4]}` : undefined;
}

export class CryptoCompareConnection extends SimConnection {
  private readonly subs = new Set<string>();

  constructor(ws: SimSocket, ctx: ConnContext, url: URL, private readonly feed: TradeLog, options: ProtocolOptions) {
    super('cryptocompare', ws, ctx);
    if (!url.searchParams.get('api_key')) {
      this.send(ccError('401', 'UNAUTHORIZED', 'We only support JSON format with a valid api_key.', 'format'));
      this.close('close', 1008, 'unauthorized');
      return;
    }
    ws.on('message', (data) => this.onMessage(String(data)));
    this.send(ccWelcome(Math.floor(this.eventTimeUs() / 1000)));
    this.every(options.heartbeatMs ?? 30_000, () => this.send(ccHeartbeat(Math.floor(this.eventTimeUs() / 1000))));
  }

  private onMessage(text: string): void {
    const msg = this.request<{ action?: unknown; subs?: unknown }>(text, ccError('500', 'INVALID_JSON', 'Invalid JSON'), ccError('500', 'INVALID_JSON', 'Invalid JSON'));
    if (msg === undefined) return;
    if (msg.action !== 'SubAdd' && msg.action !== 'SubRemove') {
      this.send(ccError('500', 'INVALID_PARAMETER', `Unknown action ${shown(msg.action)}`, 'action'));
      return;
    }
    const subs = Array.isArray(msg.subs) ? msg.subs : [];
    if (subs.length === 0) {
      this.send(ccError('500', 'INVALID_PARAMETER', 'subs must be a non-empty list', 'subs'));
      return;
    }
    for (const sub of subs) {
      if (msg.action === 'SubRemove') {
        if (typeof sub === 'string' && this.subs.delete(sub)) this.send(`{"TYPE":"17","MESSAGE":"UNSUBSCRIBECOMPLETE","SUB":${JSON.stringify(sub)}}`);
        else this.send(ccError('500', 'SUBSCRIPTION_UNRECOGNIZED', `Not subscribed to ${shown(sub)}`, shown(sub)));
        continue;
      }
      this.add(sub);
    }
    if (msg.action === 'SubAdd') this.send(CC_LOADCOMPLETE);
  }

  private add(sub: unknown): void {
    const m = typeof sub === 'string' ? SUB.exec(sub) : null;
    const r = this.ctx.recording;
    const symbol = m ? `${m[2]}~${m[3]}~${m[4]}` : '';
    const known = r !== undefined ? r.holds('cryptocompare', String(sub)) : this.feed.markets('cryptocompare').some((x) => x.symbol === symbol);
    if (m === null || !known) {
      this.send(ccError('500', 'INVALID_SUB', `Invalid subscription ${shown(sub)}`, shown(sub)));
      return;
    }
    if (this.subs.has(m[0])) {
      this.send(ccError('500', 'SUBSCRIPTION_ALREADY_ACTIVE', `Already subscribed to ${m[0]}`, m[0]));
      return;
    }
    if (this.subs.size >= MAX_SUBS) {
      this.send(ccError('429', `TOO_MANY_SUBSCRIPTIONS_MAX_${MAX_SUBS}_PER_SOCKET`, 'Too many subscriptions.'));
      return;
    }
    this.subs.add(m[0]);
    if (r !== undefined) r.play(this, [m[0]]);
    else if (m[1] === '0') for (const t of this.feed.tradesOf('cryptocompare', symbol).slice(-CC_REPLAYED_TRADES)) this.send(ccTrade(t));
    else {
      const q = this.feed.lastQuote('cryptocompare', symbol);
      if (q !== undefined) this.send(ccTopOfBook(q, 0));
    }
    this.send(ccSubscribed(m[0]));
  }

  onMarket(e: SimEvent, payload: string): void {
    if (this.subs.has(`${e.kind === 'trade' ? '0' : '30'}~${e.symbol}`)) this.send(payload);
  }

  onRecorded(f: RecordedFrame): void {
    if (f.stream !== undefined && this.subs.has(f.stream)) this.send(f.payload);
  }

  /** The streamer says FORCE_DISCONNECT, then closes. */
  override shutdown(): void {
    this.send(CC_FORCE_DISCONNECT);
    this.close('close', 1001, 'server shutdown');
  }

  malformed(): string {
    return '{"TYPE":"0","M":"Coinbase","FSYM":';
  }

  unknown(): string {
    return '{"TYPE":"4242","MESSAGE":"BRANDNEWMESSAGE"}';
  }
}

/** The simulator's CryptoCompare: `/cryptocompare/v2` (or `/cryptocompare`); no REST (the real one has no trade history endpoint). */
export const cryptoCompareSimServer: SimProtocol = {
  accepts: (url) => /^\/cryptocompare(\/v2)?\/?$/.test(url.pathname),
  connect: (ws, ctx, url, feed, options) => new CryptoCompareConnection(ws, ctx, url, feed, options),
  rest: () => undefined,
  isTrade: (payload) => payload.startsWith('{"TYPE":"0"'),
  streamOf: ccStreamOf,
  symbolOf: (stream) => stream.slice(stream.indexOf('~') + 1),
  tradeText: (payload) => tradeTexts(payload, /"P":([0-9.eE+-]+)/, /"Q":([0-9.eE+-]+)/),
};
