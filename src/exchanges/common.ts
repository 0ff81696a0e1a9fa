/**
 * Pieces every exchange adapter shares: exact integer ids, strict number parsing, the
 * limits a decoded value must keep, and per-symbol trade-id continuity (the one reliable
 * gap detector on most venues, protocols.md §0.5).
 *
 * ## What the engine can hold (issue 10, item 6)
 *
 * A value outside these limits never reaches the engine: the frame becomes a
 * `decode_error` event whose reason names the field, the value and the rule. The rules are
 * the same on the fast (scanning) path and the JSON.parse path.
 *
 * | field | allowed | why |
 * |---|---|---|
 * | trade price; quote bid and ask | finite, 0 < x ≤ 1e15 | no trade happens at or below zero; above 1e15 a double no longer holds a cent exactly (2^53 ≈ 9.007e15), and price × size feeds PnL |
 * | trade size | finite, 0 < x ≤ 1e15 | a trade of nothing is not a trade (candle `trades` would count it); the largest real sizes (meme coins) are near 1e11 |
 * | quote bid/ask size | finite, 0 ≤ x ≤ 1e15 | 0 means "not sent": Coinbase tickers before 2022 carry no sizes |
 * | trade id, heartbeat `last_trade_id` | integer, 0 ≤ id < 2^63 | ids are INT64 columns in the outputs (candles, trades, gaps) |
 * | symbol (`s`, `product_id`, a backfill URL's symbol) | 1–64 characters, no control character (U+0000–U+001F, U+007F–U+009F) | a symbol is a Kafka key, a Parquet string and a log line; real ones are ≤ 20 characters |
 * | exchange time (`T`, `time`) | 2010-01-01 ≤ t < 2100-01-01 (UTC) | no crypto exchange traded before 2010; beyond 2100 is a unit mistake (µs read as ms, ns as µs) |
 * | exchange time against receive time | per symbol, the offset (exchange time − receive time) moves by at most 1 day from the last accepted one | see below |
 *
 * Exchange time against receive time: one time far ahead would move the engine's watermark
 * and close every window at once, so a time must agree with the receive clock. Not with
 * the receive time itself, though: the offset between the two clocks is the recorder's
 * business (the real Binance recording runs 1.27 s behind the exchange; a recorder
 * with a wrong time zone is hours off; the replay façade re-serves a 2024 recording to a
 * recorder running today, test/e2e/facade.e2e.test.ts). So the first time seen for a symbol
 * sets its offset, and each later one may move it by at most a day (a clock step or
 * a day-long outage is a day; network delay is seconds). A backfilled (REST) trade is old
 * by nature: it may lag without limit but may not lead by more than a day. The offset is
 * kept per symbol so that workers partitioned by symbol judge every frame alike.
 */
import type { LogEvent } from '../log/event.ts';
import type { DecodeCounts, DecodeError, Gap, MarketEvent, Origin, Quote, Trade } from '../market/events.ts';

/** Largest price or size the engine takes (see the table above). */
export const MAX_AMOUNT = 1e15;
/** Longest symbol the engine takes. */
export const MAX_SYMBOL_LENGTH = 64;
/** Trade ids must be below 2^63 (INT64 columns). */
export const TRADE_ID_LIMIT = 2n ** 63n;
/** 2010-01-01T00:00:00Z and 2100-01-01T00:00:00Z in µs. */
export const MIN_EXCHANGE_US = 1_262_304_000_000_000;
export const MAX_EXCHANGE_US = 4_102_444_800_000_000;
/** How far a symbol's exchange−receive offset may move between accepted frames: one day, in µs. */
export const MAX_CLOCK_STEP_US = 86_400_000_000;

/** Thrown inside an adapter for a frame it cannot read; turned into a DecodeError row. */
export class FrameError extends Error {}

export function origin(ev: LogEvent): Origin {
  return { session: ev.session, ingestSeq: ev.ingestSeq };
}

export function decodeError(ev: LogEvent, reason: string): DecodeError {
  return { type: 'decode_error', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), reason, payload: ev.payload };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new FrameError('not JSON');
  }
}

/** A price or size: exchanges send decimal strings (or JSON numbers). NaN is a FrameError. */
export function num(v: unknown, field: string): number {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  if (!Number.isFinite(n) || (typeof v === 'string' && v.trim() === '')) {
    throw new FrameError(`field ${field} is not a number: ${JSON.stringify(v)}`);
  }
  return n;
}

export function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw new FrameError(`field ${field} is not a string`);
  return v;
}

/** A trade price or a quote's bid/ask: 0 < x ≤ MAX_AMOUNT (an already finite number). */
export function checkPrice(n: number, field: string): number {
  if (n > 0 && n <= MAX_AMOUNT) return n;
  throw new FrameError(`field ${field} is not a price the engine can hold (0 < x ≤ 1e15): ${n}`);
}

/** A trade size: 0 < x ≤ MAX_AMOUNT. */
export function checkSize(n: number, field: string): number {
  if (n > 0 && n <= MAX_AMOUNT) return n;
  throw new FrameError(`field ${field} is not a size the engine can hold (0 < x ≤ 1e15): ${n}`);
}

/** A quote's bid/ask size: 0 ≤ x ≤ MAX_AMOUNT (0: the exchange sent none). */
export function checkQuoteSize(n: number, field: string): number {
  if (n >= 0 && n <= MAX_AMOUNT) return n;
  throw new FrameError(`field ${field} is not a size the engine can hold (0 ≤ x ≤ 1e15): ${n}`);
}

/** A raw value and the field it came from, for the error that names it. */
type Field = readonly [value: unknown, name: string];

/** A best bid/offer from its four raw values, each checked as the limits table says (no clock check: the caller's). */
export function checkedQuote(ev: LogEvent, symbol: string, bid: Field, bidSize: Field, ask: Field, askSize: Field, tsUs: number | undefined): Quote {
  return {
    type: 'quote', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol,
    bid: checkPrice(num(bid[0], bid[1]), bid[1]), bidSize: checkQuoteSize(num(bidSize[0], bidSize[1]), bidSize[1]),
    ask: checkPrice(num(ask[0], ask[1]), ask[1]), askSize: checkQuoteSize(num(askSize[0], askSize[1]), askSize[1]), tsUs,
  };
}

/**
 * A quote whose values passed their checks: its time (when the exchange sends one) goes
 * through the symbol's clock check under the name of its field, then the event is made.
 */
export function emitQuote(
  ev: LogEvent, clocks: SymbolClocks, timeField: string, symbol: string, bid: number, bidSize: number, ask: number, askSize: number, tsUs: number | undefined,
): MarketEvent[] {
  if (tsUs !== undefined) clocks.observe(symbol, ev.recvNs, tsUs, timeField);
  return [{ type: 'quote', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol, bid, bidSize, ask, askSize, tsUs }];
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A symbol: a non-empty string of at most MAX_SYMBOL_LENGTH characters, none a control character. */
export function symbolOf(v: unknown, field: string): string {
  const s = str(v, field);
  if (s.length > MAX_SYMBOL_LENGTH) throw new FrameError(`field ${field} is not a symbol: longer than ${MAX_SYMBOL_LENGTH} characters`);
  if (CONTROL.test(s)) throw new FrameError(`field ${field} is not a symbol: it holds a control character: ${JSON.stringify(s)}`);
  return s;
}

/** A trade id the outputs can hold: 0 ≤ id < 2^63 (INT64 columns). */
export function checkId(id: bigint, field: string): bigint {
  if (id >= 0n && id < TRADE_ID_LIMIT) return id;
  throw new FrameError(`field ${field} is not a trade id the engine can hold (0 ≤ id < 2^63): ${id}`);
}

/**
 * An integer id, exact even above 2^53: JSON.parse rounds such numbers, so the digits are
 * read back from the frame's own text (the payload is kept verbatim for exactly this).
 */
export function exactId(v: unknown, payload: string, field: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return checkId(BigInt(v), field);
  if (typeof v === 'string' && /^\d+$/.test(v)) return checkId(BigInt(v), field);
  if (typeof v === 'number' && Number.isInteger(v)) {
    const m = new RegExp(`"${field}"\\s*:\\s*(\\d+)`).exec(payload);
    if (m) return checkId(BigInt(m[1]!), field);
  }
  throw new FrameError(`field ${field} is not an integer id: ${JSON.stringify(v)}`);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The frame as a JSON object, or a FrameError. */
export function parseObject(text: string): Record<string, unknown> {
  const msg = parseJson(text);
  if (!isObject(msg)) throw new FrameError('frame is not a JSON object');
  return msg;
}

/** Runs an adapter's reading of one event: a FrameError becomes a decode_error event, never a crash. */
export function guarded(ev: LogEvent, read: () => MarketEvent[]): MarketEvent[] {
  try {
    return read();
  } catch (err) {
    if (err instanceof FrameError) return [decodeError(ev, err.message)];
    throw err;
  }
}

/**
 * Each symbol's offset between exchange time and receive time (µs), to judge the next
 * exchange time by (the table above). Call `observe` last, once every other field of the
 * frame has passed, so that a refused frame moves nothing.
 */
export class SymbolClocks {
  private readonly offsets = new Map<string, { offsetUs: number }>();

  /** The offset `tsUs` would set, or a FrameError if the time is not plausible. `backfill`: may lag without limit. */
  check(symbol: string, recvNs: bigint, tsUs: number, field: string, backfill = false): number {
    return this.judge(this.offsets.get(symbol), recvNs, tsUs, field, backfill);
  }

  /** `check`, then the offset becomes the symbol's: for a live frame whose other fields all passed. */
  observe(symbol: string, recvNs: bigint, tsUs: number, field: string): void {
    const known = this.offsets.get(symbol);
    const offsetUs = this.judge(known, recvNs, tsUs, field, false);
    if (known === undefined) this.offsets.set(symbol, { offsetUs });
    else known.offsetUs = offsetUs;
  }

  private judge(known: { offsetUs: number } | undefined, recvNs: bigint, tsUs: number, field: string, backfill: boolean): number {
    if (!(tsUs >= MIN_EXCHANGE_US && tsUs < MAX_EXCHANGE_US)) {
      throw new FrameError(`field ${field} is not an exchange time the engine can hold (2010 ≤ t < 2100): ${tsUs} µs`);
    }
    // A double is exact enough here: the bound is a day, the rounding below a microsecond.
    const offsetUs = tsUs - Number(recvNs) / 1000;
    if (known !== undefined) {
      const step = offsetUs - known.offsetUs;
      if (step > MAX_CLOCK_STEP_US || (!backfill && step < -MAX_CLOCK_STEP_US)) {
        throw new FrameError(`field ${field} is more than a day off this symbol's clock: exchange time ${tsUs} µs, `
          + `${(step / 1e6).toFixed(3)} s from the offset to receive time seen so far`);
      }
    }
    return offsetUs;
  }
}

/**
 * Verdict on one trade id against what was seen for its symbol: it continues the run, it
 * skips ids (a gap), it fills ids a gap left missing (REST backfill, or a late frame), it
 * repeats an id already seen (reconnect or backfill overlap), or it starts a run of ids of
 * its own (`reset`: a lower id at a later time, so not a repeat; see TradeIdTracker).
 */
export type Continuity =
  | { kind: 'next' }
  | { kind: 'duplicate' }
  | { kind: 'gap'; fromId: bigint; toId: bigint }
  | { kind: 'fill'; closed: boolean }
  | { kind: 'reset' };

const NEXT: Continuity = Object.freeze({ kind: 'next' });
const DUPLICATE: Continuity = Object.freeze({ kind: 'duplicate' });
const RESET: Continuity = Object.freeze({ kind: 'reset' });

/**
 * How much later than the highest id's trade a lower id's trade must be to be taken for
 * another run of ids rather than a repeat. An exchange numbers a symbol's trades in time
 * order, so a repeat (or a fill) is never later than the highest id seen; the second is
 * room for an exchange whose times within one id run are not strictly ordered.
 */
const RESET_AFTER_US = 1_000_000;

/** The highest id seen for a symbol and its trade's exchange time (µs; +Infinity while unknown). */
interface Highest {
  id: number | bigint;
  tsUs: number;
}

/**
 * Per-symbol trade-id continuity, with the ranges a gap left missing, so that backfilled
 * trades are taken exactly once and the end of a gap (all its ids filled) is known.
 *
 * A lower id than the highest seen is a repeat or a fill, unless its trade is more than
 * RESET_AFTER_US later than the highest one's: then it is another run of ids under the same
 * symbol (one replay of two sessions, one after the other, whose ids do not continue each
 * other: a simulated session after a real one), and the run starts again from it. Before,
 * every trade of the later session was dropped as a repeat without a word. Two such runs at
 * the same time (a testnet's trades beside the exchange's) are not told apart.
 *
 * Ids are kept as `number` while they are safe integers (every real id so far) and as
 * `bigint` above 2^53: BigInt arithmetic stays off the per-trade path.
 */
export class TradeIdTracker {
  private readonly last = new Map<string, Highest>();
  private readonly missing = new Map<string, [bigint, bigint][]>();

  /** `id`: a safe integer as a number, or any id as a bigint; `tsUs`: its trade's exchange time, when it has one. */
  observe(key: string, id: number | bigint, tsUs = Number.POSITIVE_INFINITY): Continuity {
    const prev = this.last.get(key);
    if (prev === undefined) {
      this.last.set(key, { id, tsUs });
      return NEXT;
    }
    const p = prev.id;
    if (typeof id === 'number' && typeof p === 'number') {
      if (id <= p) return this.behind(key, prev, id, tsUs);
      prev.id = id;
      prev.tsUs = tsUs;
      if (id === p + 1) return NEXT;
      return this.open(key, BigInt(p) + 1n, BigInt(id) - 1n);
    }
    const big = BigInt(id);
    const pb = BigInt(p);
    if (big <= pb) return this.behind(key, prev, big, tsUs);
    prev.id = big;
    prev.tsUs = tsUs;
    if (big === pb + 1n) return NEXT;
    return this.open(key, pb + 1n, big - 1n);
  }

  /** An id at or below the highest: a repeat, a fill, or (later than the highest's trade) a run of its own. */
  private behind(key: string, prev: Highest, id: number | bigint, tsUs: number): Continuity {
    if (Number.isFinite(tsUs) && tsUs - prev.tsUs > RESET_AFTER_US) {
      prev.id = id;
      prev.tsUs = tsUs;
      this.missing.delete(key);
      return RESET;
    }
    return this.fill(key, BigInt(id));
  }

  /** Advances the expectation without a trade: Coinbase heartbeat `last_trade_id` says `id` happened. */
  advance(key: string, id: bigint): Continuity {
    const prev = this.last.get(key);
    const p = prev === undefined ? undefined : BigInt(prev.id);
    if (p !== undefined && id <= p) return NEXT;
    const next = Number.isSafeInteger(Number(id)) && typeof prev?.id !== 'bigint' ? Number(id) : id;
    // The time of that trade is not known: no later trade is taken for another run of ids until one is.
    if (prev === undefined) this.last.set(key, { id: next, tsUs: Number.POSITIVE_INFINITY });
    else {
      prev.id = next;
      prev.tsUs = Number.POSITIVE_INFINITY;
    }
    return p === undefined ? NEXT : this.open(key, p + 1n, id);
  }

  private open(key: string, fromId: bigint, toId: bigint): Continuity {
    let ranges = this.missing.get(key);
    if (ranges === undefined) this.missing.set(key, (ranges = []));
    ranges.push([fromId, toId]);
    return { kind: 'gap', fromId, toId };
  }

  private fill(key: string, id: bigint): Continuity {
    const ranges = this.missing.get(key);
    const i = ranges === undefined ? -1 : rangeHolding(ranges, id);
    if (ranges === undefined || i < 0) return DUPLICATE;
    const [a, b] = ranges[i]!;
    const rest: [bigint, bigint][] = [];
    if (a < id) rest.push([a, id - 1n]);
    if (id < b) rest.push([id + 1n, b]);
    ranges.splice(i, 1, ...rest);
    return { kind: 'fill', closed: ranges.length === 0 };
  }
}

/**
 * The index of the range of `ranges` that holds `id`, or -1. The ranges are disjoint and in
 * ascending order: a gap opens above every id seen, and a fill splits a range in place. By
 * halves: a month of a market that is never backfilled holds a range per gap, and every
 * repeat (each reconnect's overlap) looks it up.
 */
function rangeHolding(ranges: readonly (readonly [bigint, bigint])[], id: bigint): number {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const [a, b] = ranges[mid]!;
    if (id < a) hi = mid - 1;
    else if (id > b) lo = mid + 1;
    else return mid;
  }
  return -1;
}

export function gapEvent(ev: LogEvent, symbol: string, c: { fromId: bigint; toId: bigint }, reason: string): Gap {
  return { type: 'gap', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol, fromId: c.fromId, toId: c.toId, reason };
}

/**
 * Runs a decoded trade through the continuity check: a repeat is counted and dropped, a
 * jump emits a gap before the trade, and the trade that fills a gap's last missing id is
 * followed by `gap_filled`. `id` is the trade id as a number when it is a safe integer.
 */
export function acceptTrade(
  ev: LogEvent, ids: TradeIdTracker, key: string, trade: Trade, counts: DecodeCounts, id: number | bigint = trade.tradeId,
): MarketEvent[] {
  const c = ids.observe(key, id, trade.tsUs);
  switch (c.kind) {
    case 'duplicate':
      counts.duplicates++;
      return [];
    case 'next':
      return [trade];
    case 'reset':
      counts.idRuns++;
      return [trade];
    case 'gap':
      return [gapEvent(ev, trade.symbol, c, 'trade'), trade];
    case 'fill':
      return c.closed ? [trade, { type: 'gap_filled', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol: trade.symbol }] : [trade];
  }
}

/** The value of a query parameter in a logged REST URL (`meta`). */
export function urlParam(url: string, name: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get(name) ?? undefined;
}
