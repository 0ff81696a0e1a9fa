/**
 * tardis-machine's HTTP replay API on the façade: any HTTP client (curl, pandas, a notebook)
 * consumes a replay without a WebSocket library.
 *
 *   GET /replay?exchange=binance&from=…&to=…&symbols=btcusdt,…
 *       the recorded frames as newline-delimited JSON, `{"localTimestamp":…,"message":…}`
 *       (`message` the frame's exact text), paced like every playback (`--speed`, `_control`)
 *   GET /replay-normalized?…   the same slice as tapedeck's normalized trades and quotes
 *
 * `from`/`to`: an ISO-8601 receive time, epoch ms, or a time after the first
 * frame of the slice the server serves (`30s`); by default that whole slice. `symbols`: the exchange's own
 * names (`btcusdt`, `DASH-BTC`), by default every one.
 */
import type http from 'node:http';
import { makeDecoder } from '../../src/exchanges/registry.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { isoMicros } from '../../src/log/time.ts';
import type { MarketEvent } from '../../src/market/events.ts';
import { cutSlice, parseSliceBound, type ArchiveFeed } from './archive-feed.ts';
import { HttpRefusal } from './http-guard.ts';
import { Playback, type RecordedFrame, type ReplayClock } from './playback.ts';

export interface ReplayRequest {
  readonly normalized: boolean;
  readonly exchange: string;
  readonly frames: RecordedFrame[];
  readonly streams: Set<string>;
}

/** Reads the query; a bad one is a 400 refusal. `symbolOf` names a stream's symbol (the exchange's protocol). */
export function replayRequest(url: URL, feed: ArchiveFeed, exchanges: readonly string[], symbolOf: (exchange: string, stream: string) => string): ReplayRequest {
  const exchange = url.searchParams.get('exchange') ?? '';
  if (!exchanges.includes(exchange)) throw new HttpRefusal(400, `replay needs exchange=${exchanges.join('|')}`);
  let slice;
  try {
    const from = url.searchParams.get('from');
    const to = url.searchParams.get('to');
    slice = { ...(from ? { start: { atNs: feed.resolve(parseSliceBound(from)) } } : {}), ...(to ? { end: { atNs: feed.resolve(parseSliceBound(to)) } } : {}) };
  } catch (err) {
    throw new HttpRefusal(400, (err as Error).message);
  }
  const wanted = (url.searchParams.get('symbols') ?? '').split(',').filter((s) => s !== '').map((s) => s.toLowerCase());
  const streams = new Set(feed.streams(exchange).filter((s) => wanted.length === 0 || wanted.includes(symbolOf(exchange, s).toLowerCase())));
  return { normalized: url.pathname === '/replay-normalized', exchange, frames: cutSlice(feed.framesOf(exchange), slice), streams };
}

/** Streams the request's frames (or their normalized events) as NDJSON, paced by `clock`, until the slice ends or the client goes. */
export function serveReplay(r: ReplayRequest, res: http.ServerResponse, clock: ReplayClock, nowMs: () => number): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const playback = new Playback(r.frames, r.streams, clock, nowMs());
  const decoder = r.normalized ? makeDecoder(r.exchange) : undefined;
  const timer = setInterval(() => {
    if (res.writableNeedDrain) return;
    for (const f of playback.due(nowMs())) {
      const local = isoMicros(Number(f.recvNs / 1000n));
      if (decoder === undefined) res.write(`{"localTimestamp":"${local}","message":${f.payload}}\n`);
      else for (const e of decoder.decode(asEvent(f))) res.write(normalizedLine(e, local));
    }
    if (playback.done) {
      clearInterval(timer);
      res.end();
    }
  }, 10);
  res.on('close', () => clearInterval(timer));
}

function asEvent(f: RecordedFrame): LogEvent {
  return { session: '', ingestSeq: 0, recvNs: f.recvNs, exchange: f.exchange, conn: '', kind: 'frame', payload: f.payload, meta: '' };
}

/** A trade or quote as tardis-machine's normalized shapes name their fields; other events say nothing. */
function normalizedLine(e: MarketEvent, localTimestamp: string): string {
  if (e.type === 'trade') {
    return `${JSON.stringify({ type: 'trade', symbol: e.symbol, exchange: e.exchange, id: String(e.tradeId), price: e.price, amount: e.size, side: e.side, timestamp: isoMicros(e.tsUs), localTimestamp })}\n`;
  }
  if (e.type === 'quote') {
    return `${JSON.stringify({ type: 'quote', symbol: e.symbol, exchange: e.exchange, bidPrice: e.bid, bidAmount: e.bidSize, askPrice: e.ask, askAmount: e.askSize, timestamp: e.tsUs === undefined ? localTimestamp : isoMicros(e.tsUs), localTimestamp })}\n`;
  }
  return '';
}
