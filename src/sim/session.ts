/**
 * A simulated recording session as LogEvents, without sockets: what `record` would have
 * logged had it listened to the simulator. Used by the offline demo, property tests and
 * fixtures. Each connection's receive times only increase (TCP keeps order), ticks come
 * every `tickMs` of local time, and frames named in `dropTradeIds` never arrive (gaps).
 */
import type { LogEvent } from '../log/event.ts';
import { FrameEncoder, binanceCombined, binanceStream, binanceSubscribe, coinbaseSubscribe, coinbaseSubscriptions } from './frames.ts';
import { DEFAULT_ASSETS, simSymbol, simulateMarket, type SimOptions } from './market.ts';
import { Rng } from './random.ts';

export interface SimSessionOptions extends SimOptions {
  readonly session: string;
  readonly tickMs?: number;
  /** Mean network latency per exchange, ms (local clock − exchange clock included). */
  readonly latencyMs?: Readonly<Record<string, number>>;
  readonly dropTradeIds?: ReadonlySet<number>;
  /** Frames to slip in at `atMs` after the start (malformed or unknown messages, for fault drills). */
  readonly extraFrames?: readonly { atMs: number; exchange: string; payload: string }[];
}

/** A LogEvent before it has its place in the session. */
type Raw = Omit<LogEvent, 'session' | 'ingestSeq'>;

export function simEndpoints(exchange: string, symbols: readonly string[]): { url: string; subscribe: string; ack: string } {
  if (exchange === 'coinbase') {
    return { url: 'wss://ws-feed.exchange.coinbase.com', subscribe: coinbaseSubscribe(symbols), ack: coinbaseSubscriptions(symbols) };
  }
  const streams = symbols.flatMap((s) => [binanceStream(s, 'trade'), binanceStream(s, 'bookTicker')]);
  return { url: 'wss://stream.binance.com:9443/stream', subscribe: binanceSubscribe(streams, 1), ack: '{"result":null,"id":1}' };
}

export function simulateSession(o: SimSessionOptions): LogEvent[] {
  const rng = new Rng(o.seed ^ 0x5eed);
  const tickNs = BigInt(o.tickMs ?? 1000) * 1_000_000n;
  const startNs = BigInt(o.startMs) * 1_000_000n;
  const endNs = BigInt(o.startMs + o.durationMs) * 1_000_000n;
  const raws: Raw[] = [];
  const lastRecv = new Map<string, bigint>();
  const assets = o.assets ?? DEFAULT_ASSETS;
  for (const x of o.exchanges) {
    const ep = simEndpoints(x, assets.map((a) => simSymbol(x, a.base)));
    const conn = `${x}.0`;
    raws.push({ recvNs: startNs, exchange: x, conn, kind: 'open', payload: '', meta: ep.url });
    raws.push({ recvNs: startNs + 1n, exchange: x, conn, kind: 'sent', payload: ep.subscribe, meta: '' });
    raws.push({ recvNs: startNs + 2_000_000n, exchange: x, conn, kind: 'frame', payload: ep.ack, meta: '' });
    lastRecv.set(x, startNs + 2_000_000n);
  }
  const enc = new FrameEncoder();
  for (const e of simulateMarket(o)) {
    const raw = enc.encode(e);
    // Recorders subscribe to Binance's combined streams: each payload comes wrapped.
    const payload = e.exchange === 'coinbase' ? raw : binanceCombined(binanceStream(e.symbol, e.kind === 'trade' ? 'trade' : 'bookTicker'), raw);
    if (e.kind === 'trade' && o.dropTradeIds?.has(e.tradeId)) continue;
    const latUs = Math.max(50, ((o.latencyMs?.[e.exchange] ?? 20) + 5 * rng.normal()) * 1000);
    let recv = BigInt(e.tsUs) * 1000n + BigInt(Math.round(latUs * 1000));
    const prev = lastRecv.get(e.exchange)!;
    if (recv <= prev) recv = prev + 1000n;
    lastRecv.set(e.exchange, recv);
    raws.push({ recvNs: recv, exchange: e.exchange, conn: `${e.exchange}.0`, kind: 'frame', payload, meta: '' });
  }
  for (const x of o.extraFrames ?? []) {
    raws.push({ recvNs: startNs + BigInt(Math.round(x.atMs * 1e6)), exchange: x.exchange, conn: `${x.exchange}.0`, kind: 'frame', payload: x.payload, meta: '' });
  }
  for (let t = startNs + tickNs; t <= endNs; t += tickNs) raws.push({ recvNs: t, exchange: '', conn: '', kind: 'tick', payload: '', meta: '' });
  raws.sort((a, b) => (a.recvNs < b.recvNs ? -1 : a.recvNs > b.recvNs ? 1 : 0));
  return raws.map((r, i) => ({ session: o.session, ingestSeq: i, ...r }));
}
