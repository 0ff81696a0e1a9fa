/**
 * Pieces every exchange adapter shares: exact integer ids, strict number parsing, and
 * per-symbol trade-id continuity (the one reliable gap detector on most venues,
 * protocols.md §0.5).
 */
import type { LogEvent } from '../log/event.ts';
import type { DecodeCounts, DecodeError, Gap, MarketEvent, Origin, Trade } from '../market/events.ts';

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

/**
 * An integer id, exact even above 2^53: JSON.parse rounds such numbers, so the digits are
 * read back from the frame's own text (the payload is kept verbatim for exactly this).
 */
export function exactId(v: unknown, payload: string, field: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isInteger(v)) {
    const m = new RegExp(`"${field}"\\s*:\\s*(\\d+)`).exec(payload);
    if (m) return BigInt(m[1]!);
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
 * Verdict on one trade id against what was seen for its symbol: it continues the run, it
 * skips ids (a gap), it fills ids a gap left missing (REST backfill, or a late frame), or
 * it repeats an id already seen (reconnect or backfill overlap).
 */
export type Continuity =
  | { kind: 'next' }
  | { kind: 'duplicate' }
  | { kind: 'gap'; fromId: bigint; toId: bigint }
  | { kind: 'fill'; closed: boolean };

/**
 * Per-symbol trade-id continuity, with the ranges a gap left missing, so that backfilled
 * trades are taken exactly once and the end of a gap (all its ids filled) is known.
 */
export class TradeIdTracker {
  private readonly last = new Map<string, bigint>();
  private readonly missing = new Map<string, [bigint, bigint][]>();

  observe(key: string, id: bigint): Continuity {
    const prev = this.last.get(key);
    if (prev !== undefined && id <= prev) return this.fill(key, id);
    this.last.set(key, id);
    if (prev === undefined || id === prev + 1n) return { kind: 'next' };
    return this.open(key, prev + 1n, id - 1n);
  }

  /** Advances the expectation without a trade: Coinbase heartbeat `last_trade_id` says `id` happened. */
  advance(key: string, id: bigint): Continuity {
    const prev = this.last.get(key);
    if (prev !== undefined && id <= prev) return { kind: 'next' };
    this.last.set(key, id);
    return prev === undefined ? { kind: 'next' } : this.open(key, prev + 1n, id);
  }

  /** Ids still missing for `key`. */
  missingCount(key: string): bigint {
    return (this.missing.get(key) ?? []).reduce((n, [a, b]) => n + (b - a + 1n), 0n);
  }

  private open(key: string, fromId: bigint, toId: bigint): Continuity {
    let ranges = this.missing.get(key);
    if (ranges === undefined) this.missing.set(key, (ranges = []));
    ranges.push([fromId, toId]);
    return { kind: 'gap', fromId, toId };
  }

  private fill(key: string, id: bigint): Continuity {
    const ranges = this.missing.get(key);
    const i = ranges?.findIndex(([a, b]) => a <= id && id <= b) ?? -1;
    if (ranges === undefined || i < 0) return { kind: 'duplicate' };
    const [a, b] = ranges[i]!;
    const rest: [bigint, bigint][] = [];
    if (a < id) rest.push([a, id - 1n]);
    if (id < b) rest.push([id + 1n, b]);
    ranges.splice(i, 1, ...rest);
    return { kind: 'fill', closed: ranges.length === 0 };
  }
}

export function gapEvent(ev: LogEvent, symbol: string, c: { fromId: bigint; toId: bigint }, reason: string): Gap {
  return { type: 'gap', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol, fromId: c.fromId, toId: c.toId, reason };
}

/**
 * Runs a decoded trade through the continuity check: a repeat is counted and dropped, a
 * jump emits a gap before the trade, and the trade that fills a gap's last missing id is
 * followed by `gap_filled`.
 */
export function acceptTrade(ev: LogEvent, ids: TradeIdTracker, key: string, trade: Trade, counts: DecodeCounts): MarketEvent[] {
  const c = ids.observe(key, trade.tradeId);
  switch (c.kind) {
    case 'duplicate':
      counts.duplicates++;
      return [];
    case 'next':
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
