/**
 * Kraken adapter, v1 and v2 (protocols.md §4): a pure function of (LogEvent, KrakenState).
 *
 * - v1 (`wss://ws.kraken.com`, the only recordings that exist): data frames are ARRAYS
 *   `[channelID, payload…, channelName, pair]`; control frames are objects with `event`.
 *   Trade rows carry no trade id at all, so a v1 trade's `tradeId` is 0 and gaps cannot be
 *   detected from the feed (only a disconnect says data may be missing); candle open and
 *   close go by exchange time, then by arrival. The ticker's `b`/`a` are the best bid/offer
 *   (no time). `connectionID` exceeds 2^53: it is never read as a number.
 * - v2 (`wss://ws.kraken.com/v2`): objects with `channel` (`trade`, `ticker`, `heartbeat`,
 *   `status`, `book`) or `method` (subscribe acks, pong). Prices and sizes are JSON numbers;
 *   `trade_id` is contiguous per book, so a jump is a gap and a repeat (the snapshot sent on
 *   every subscribe) is a duplicate.
 *
 * - REST `Trades` pages (the recorder's backfill): rows are arrays with the v2 trade id last.
 *
 * Sides are the taker's on all. JSON.parse path only (no scanner yet).
 */
import type { LogEvent } from '../../log/event.ts';
import { decimalSecondsToNs, isoToNs } from '../../log/time.ts';
import { bump, newCounts, type DecodeCounts, type MarketEvent, type Status, type Trade } from '../../market/events.ts';
import {
  FrameError, SymbolClocks, TradeIdTracker, acceptTrade, checkPrice, checkSize, checkedQuote, exactId, guarded, isObject, num, origin,
  parseJson, str, symbolOf,
} from '../common.ts';
import { tradesPage } from './backfill.ts';
import type { KrakenV1Event, KrakenV1Ticker, KrakenV2Ticker, KrakenV2Trade } from './payloads.ts';
import { krakenRestSymbol } from './wire.ts';

export interface KrakenState {
  readonly ids: TradeIdTracker;
  readonly counts: DecodeCounts;
  /** Each pair's exchange−receive clock offset (common.ts, the limits table). */
  readonly clocks: SymbolClocks;
}

export function newKrakenState(): KrakenState {
  return { ids: new TradeIdTracker(), counts: newCounts(), clocks: new SymbolClocks() };
}

/** Channels recognised but not turned into market events (yet). */
const RECOGNISED = new Set(['book', 'spread', 'ohlc', 'instrument', 'level3']);

export function decodeKraken(ev: LogEvent, state: KrakenState): MarketEvent[] {
  if (ev.kind === 'rest') return decodeRest(ev, state);
  if (ev.kind !== 'frame') return [];
  return guarded(ev, () => {
    const msg = parseJson(ev.payload);
    if (Array.isArray(msg)) return v1Data(ev, msg, state);
    if (!isObject(msg)) throw new FrameError('frame is neither a JSON object nor an array');
    if (typeof msg.event === 'string') return v1Event(ev, msg as unknown as KrakenV1Event, state);
    if (typeof msg.channel === 'string') return v2Channel(ev, msg, state);
    if (typeof msg.method === 'string') return v2Method(ev, msg, state);
    bump(state.counts.unknown, 'no-event-or-channel');
    return [];
  });
}

const status = (ev: LogEvent, s: Status['status'], detail: string): Status => ({ type: 'status', status: s, exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), detail });

// ---- v1 ----

/** `[channelID, payload…, channelName, pair]`: the name is second to last (book frames may carry two payloads). */
function v1Data(ev: LogEvent, a: unknown[], state: KrakenState): MarketEvent[] {
  if (a.length < 4) throw new FrameError(`v1 data array of ${a.length} elements (expected [channelID, payload, name, pair])`);
  const name = str(a[a.length - 2], 'channelName');
  const pair = symbolOf(a[a.length - 1], 'pair');
  // `book-1000`, `ohlc-5`, `spread`: the channel is the name before its depth or interval.
  const channel = name.replace(/-\d+$/, '');
  if (channel === 'trade') {
    if (!Array.isArray(a[1])) throw new FrameError('v1 trade rows are not an array');
    return v1Trades(ev, pair, a[1], state);
  }
  if (channel === 'ticker') {
    if (!isObject(a[1])) throw new FrameError('v1 ticker payload is not an object');
    return v1Ticker(ev, pair, a[1] as unknown as KrakenV1Ticker);
  }
  bump(RECOGNISED.has(channel) ? state.counts.recognised : state.counts.unknown, channel);
  return [];
}

function v1Trades(ev: LogEvent, pair: string, rows: unknown[], state: KrakenState): MarketEvent[] {
  // Every row is checked before any is taken.
  const trades = rows.map((r, i): Trade => {
    if (!Array.isArray(r) || r.length < 4) throw new FrameError(`v1 trade row ${i} is not [price, volume, time, side, …]`);
    const price = checkPrice(num(r[0], 'price'), 'price');
    const size = checkSize(num(r[1], 'volume'), 'volume');
    const tsUs = secondsUs(r[2], 'time');
    const side = r[3] === 'b' ? 'buy' : r[3] === 's' ? 'sell' : undefined;
    if (side === undefined) throw new FrameError(`field side is not b/s: ${JSON.stringify(r[3])}`);
    state.clocks.check(pair, ev.recvNs, tsUs, 'time');
    // No trade id in v1 [K1]: 0, and no continuity check.
    return { type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol: pair, tradeId: 0n, price, size, side, tsUs };
  });
  for (const t of trades) state.clocks.observe(pair, ev.recvNs, t.tsUs, 'time');
  return trades;
}

function v1Ticker(ev: LogEvent, pair: string, t: KrakenV1Ticker): MarketEvent[] {
  if (!Array.isArray(t.b) || !Array.isArray(t.a)) throw new FrameError('v1 ticker without b/a arrays');
  return [checkedQuote(ev, pair, [t.b[0], 'b'], [t.b[2], 'b'], [t.a[0], 'a'], [t.a[2], 'a'], undefined)];
}

function v1Event(ev: LogEvent, e: KrakenV1Event, state: KrakenState): MarketEvent[] {
  switch (e.event) {
    case 'heartbeat':
    case 'pong':
      return [status(ev, 'heartbeat', e.event)];
    case 'systemStatus':
      return [status(ev, 'system', String(e.status))];
    case 'subscriptionStatus':
      if (e.status === 'error') return [status(ev, 'error', `${String(e.pair ?? '')}: ${String(e.errorMessage ?? '')}`)];
      if (e.status === 'subscribed') return [status(ev, 'subscribed', ev.payload)];
      bump(state.counts.recognised, `subscriptionStatus:${String(e.status)}`);
      return [];
    case 'error':
      return [status(ev, 'error', String(e.errorMessage ?? ev.payload))];
    default:
      bump(state.counts.unknown, e.event);
      return [];
  }
}

/** `"1618678142.557535"` (seconds, µs precision) → µs, exactly (no float on the way). */
function secondsUs(v: unknown, field: string): number {
  try {
    return Number(decimalSecondsToNs(str(v, field)) / 1000n);
  } catch {
    throw new FrameError(`field ${field} is not a time in seconds: ${JSON.stringify(v)}`);
  }
}

// ---- v2 ----

function v2Channel(ev: LogEvent, msg: Record<string, unknown>, state: KrakenState): MarketEvent[] {
  const channel = msg.channel as string;
  switch (channel) {
    case 'trade':
      return v2Trades(ev, dataRows(msg), state);
    case 'ticker':
      return dataRows(msg).flatMap((d) => v2Ticker(ev, d as unknown as KrakenV2Ticker, state));
    case 'heartbeat':
      return [status(ev, 'heartbeat', channel)];
    case 'status':
      return [status(ev, 'system', ev.payload)];
    default:
      bump(RECOGNISED.has(channel) ? state.counts.recognised : state.counts.unknown, channel);
      return [];
  }
}

function dataRows(msg: Record<string, unknown>): Record<string, unknown>[] {
  if (!Array.isArray(msg.data)) throw new FrameError('field data is not an array');
  return msg.data.map((d, i) => {
    if (!isObject(d)) throw new FrameError(`data row ${i} is not an object`);
    return d;
  });
}

function v2Trades(ev: LogEvent, rows: Record<string, unknown>[], state: KrakenState): MarketEvent[] {
  const trades = rows.map((r): Trade => {
    const d = r as unknown as KrakenV2Trade;
    const symbol = symbolOf(d.symbol, 'symbol');
    if (d.side !== 'buy' && d.side !== 'sell') throw new FrameError(`field side is not buy/sell: ${JSON.stringify(d.side)}`);
    const tsUs = isoUs(d.timestamp);
    state.clocks.check(symbol, ev.recvNs, tsUs, 'timestamp');
    return {
      type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol, tradeId: exactId(d.trade_id, ev.payload, 'trade_id'),
      price: checkPrice(num(d.price, 'price'), 'price'), size: checkSize(num(d.qty, 'qty'), 'qty'), side: d.side, tsUs,
    };
  });
  return trades.flatMap((t) => {
    state.clocks.observe(t.symbol, ev.recvNs, t.tsUs, 'timestamp');
    return acceptTrade(ev, state.ids, t.symbol, t, state.counts);
  });
}

function v2Ticker(ev: LogEvent, d: KrakenV2Ticker, state: KrakenState): MarketEvent[] {
  const symbol = symbolOf(d.symbol, 'symbol');
  const tsUs = d.timestamp === undefined ? undefined : isoUs(d.timestamp);
  const q = checkedQuote(ev, symbol, [d.bid, 'bid'], [d.bid_qty, 'bid_qty'], [d.ask, 'ask'], [d.ask_qty, 'ask_qty'], tsUs);
  if (tsUs !== undefined) state.clocks.observe(symbol, ev.recvNs, tsUs, 'timestamp');
  return [q];
}

function v2Method(ev: LogEvent, msg: Record<string, unknown>, state: KrakenState): MarketEvent[] {
  if (msg.method === 'pong') return [status(ev, 'heartbeat', 'pong')];
  if (msg.success === false) return [status(ev, 'error', String(msg.error ?? ev.payload))];
  if (msg.method === 'subscribe' && msg.success === true) return [status(ev, 'subscribed', ev.payload)];
  bump(state.counts.recognised, `method:${String(msg.method)}`);
  return [];
}

// ---- REST ----

/**
 * Trade backfill: `GET /0/public/Trades?pair=…&since=…` rows `[price, volume, time, side,
 * ordertype, misc, trade_id]`, oldest first, `time` in seconds (protocols.md §4). The ones
 * the live feed already gave are dropped by id. Other REST bodies (the restart's newest
 * trade, without `since`) are not market data here.
 */
function decodeRest(ev: LogEvent, state: KrakenState): MarketEvent[] {
  if (!/\/0\/public\/Trades\?(?:.*&)?since=/.test(ev.meta)) {
    bump(state.counts.recognised, 'rest:other');
    return [];
  }
  return guarded(ev, () => {
    const symbol = symbolOf(krakenRestSymbol(ev.meta), 'pair');
    const page = tradesPage(ev.payload);
    if (page.errors.length > 0) return [status(ev, 'error', page.errors.join('; '))];
    // Every row is checked before any is taken.
    const trades = page.rows.map((r, i): Trade => {
      if (!Array.isArray(r) || r.length < 7) throw new FrameError(`Trades row ${i} is not [price, volume, time, side, ordertype, misc, trade_id]`);
      const side = r[3] === 'b' ? 'buy' : r[3] === 's' ? 'sell' : undefined;
      if (side === undefined) throw new FrameError(`field side is not b/s: ${JSON.stringify(r[3])}`);
      // Seconds with µs: a double holds today's times to a tenth of a µs, so rounding is exact.
      const tsUs = Math.round(num(r[2], 'time') * 1e6);
      state.clocks.check(symbol, ev.recvNs, tsUs, 'time', true);
      return {
        type: 'trade', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol, tradeId: page.ids[i]!,
        price: checkPrice(num(r[0], 'price'), 'price'), size: checkSize(num(r[1], 'volume'), 'volume'), side, tsUs,
      };
    });
    return trades.flatMap((t) => acceptTrade(ev, state.ids, symbol, t, state.counts));
  });
}

function isoUs(v: unknown): number {
  try {
    return Number(isoToNs(str(v, 'timestamp')) / 1000n);
  } catch {
    throw new FrameError(`field timestamp is not an ISO time: ${JSON.stringify(v)}`);
  }
}
