/**
 * tardis-machine's HTTP replay API on the façade: any HTTP client (curl, pandas, a notebook)
 * consumes a replay without a WebSocket library.
 *
 *   GET /replay?exchange=<x>&from=…&to=…&symbols=<symbol>,…
 *       the recorded frames as newline-delimited JSON, `{"localTimestamp":…,"message":…}`
 *       (`message` the frame's exact text), paced like every playback (`--speed`, `_control`)
 *   GET /replay-normalized?…&candles=1m,5m
 *       the same slice as tapedeck's normalized trades and quotes, and the candles its engine
 *       closes over them (tardis-machine's `trade_bar` shape plus tapedeck's `complete` and
 *       `flags`), each as its window closes; `candles` the windows (default 1m, `none` for none)
 *
 * `from`/`to`: an ISO-8601 receive time, epoch ms, or a time after the first
 * frame of the slice the server serves (`30s`); by default that whole slice. `symbols`: the exchange's own
 * names (`btcusdt`, `DASH-BTC`), by default every one.
 */
import type http from 'node:http';
import { DEFAULT_CONFIG, intervalName, parseWindows } from '../../src/engine/config.ts';
import { Engine } from '../../src/engine/engine.ts';
import type { CandleRow, OutputSink } from '../../src/engine/rows.ts';
import { makeDecoder } from '../../src/exchanges/registry.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { isoMicros } from '../../src/log/time.ts';
import type { MarketEvent } from '../../src/market/events.ts';
import { cutSlice, parseSliceBound, type ArchiveFeed } from './archive-feed.ts';
import { HttpRefusal } from '../../src/sim/http-refusal.ts';
import type { RecordedFrame } from '../../src/sim/connection.ts';
import { Playback, type ReplayClock } from './playback.ts';

export interface ReplayRequest {
  readonly normalized: boolean;
  /** With `normalized`: the candle windows to stream, ms (none: no candles). */
  readonly candles: number[];
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
  const spec = url.searchParams.get('candles') ?? '1m';
  let candles: number[];
  try {
    candles = spec === 'none' ? [] : parseWindows(spec);
  } catch (err) {
    throw new HttpRefusal(400, `candles: ${(err as Error).message}`);
  }
  return { normalized: url.pathname === '/replay-normalized', candles, exchange, frames: cutSlice(feed.framesOf(exchange), slice), streams };
}

/** Streams the request's frames (or their normalized events) as NDJSON, paced by `clock`, until the slice ends or the client goes. */
export function serveReplay(r: ReplayRequest, res: http.ServerResponse, clock: ReplayClock, nowMs: () => number): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const playback = new Playback(r.frames, r.streams, clock, nowMs());
  const decoder = r.normalized ? makeDecoder(r.exchange) : undefined;
  let local = '';
  // The engine closes the candles as it would in a replay of the same frames.
  const bars: OutputSink = { emit: (table, row) => void (table === 'candles' && res.write(barLine(row as CandleRow, local))) };
  const engine = r.normalized && r.candles.length > 0 ? new Engine({ ...DEFAULT_CONFIG, intervalsMs: r.candles, smaPeriods: [], emaPeriods: [] }, bars) : undefined;
  const timer = setInterval(() => {
    if (res.writableNeedDrain) return;
    for (const f of playback.due(nowMs())) {
      local = isoMicros(Number(f.recvNs / 1000n));
      if (decoder === undefined) {
        res.write(`{"localTimestamp":"${local}","message":${f.payload}}\n`);
        continue;
      }
      const ev = asEvent(f);
      for (const e of decoder.decode(ev)) res.write(normalizedLine(e, local));
      engine?.onLog(ev);
    }
    if (playback.done) {
      clearInterval(timer);
      engine?.finish();
      res.end();
    }
  }, 10);
  res.on('close', () => clearInterval(timer));
}

function asEvent(f: RecordedFrame): LogEvent {
  return { session: '', ingestSeq: 0, recvNs: f.recvNs, exchange: f.exchange, conn: '', kind: 'frame', payload: f.payload, meta: '' };
}

/** A closed candle as tardis-machine's `trade_bar` names its fields, with tapedeck's completeness. */
function barLine(c: CandleRow, localTimestamp: string): string {
  const ms = parseWindows(c.interval)[0]!;
  const start = Number(c.window_start);
  return `${JSON.stringify({
    type: 'trade_bar', symbol: c.symbol, exchange: c.exchange, name: `trade_bar_${intervalName(ms)}`, interval: ms, kind: 'time',
    open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume, buyVolume: c.buy_volume, sellVolume: c.sell_volume,
    trades: c.trades, vwap: c.vwap, openTimestamp: isoMicros(start * 1000), closeTimestamp: isoMicros((start + ms) * 1000),
    timestamp: isoMicros((start + ms) * 1000), localTimestamp, complete: c.complete, flags: c.flags,
  })}\n`;
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
