/**
 * Pieces every exchange adapter shares: exact integer ids, strict number parsing, and
 * per-symbol trade-id continuity (the one reliable gap detector on most venues,
 * protocols.md §0.5).
 */
import type { LogEvent } from '../log/event.ts';
import type { DecodeError, Gap, Origin } from '../market/events.ts';

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

/** Verdict on one trade id against the last one seen for its symbol. */
export type Continuity = { kind: 'next' } | { kind: 'duplicate' } | { kind: 'gap'; fromId: bigint; toId: bigint };

/**
 * Per-symbol trade-id continuity. `observe` says whether `id` continues the run, repeats
 * an id already passed (reconnect or backfill overlap), or skips ids (a gap).
 */
export class TradeIdTracker {
  private readonly last = new Map<string, bigint>();

  observe(key: string, id: bigint): Continuity {
    const prev = this.last.get(key);
    if (prev !== undefined && id <= prev) return { kind: 'duplicate' };
    this.last.set(key, id);
    if (prev === undefined || id === prev + 1n) return { kind: 'next' };
    return { kind: 'gap', fromId: prev + 1n, toId: id - 1n };
  }

  /** Advances the expectation without a trade (Coinbase heartbeat `last_trade_id`). */
  advance(key: string, id: bigint): Continuity {
    const prev = this.last.get(key);
    if (prev !== undefined && id <= prev) return { kind: 'next' };
    this.last.set(key, id);
    return prev === undefined ? { kind: 'next' } : { kind: 'gap', fromId: prev + 1n, toId: id };
  }
}

export function gapEvent(ev: LogEvent, symbol: string, c: { fromId: bigint; toId: bigint }, reason: string): Gap {
  return { type: 'gap', exchange: ev.exchange, recvNs: ev.recvNs, at: origin(ev), symbol, fromId: c.fromId, toId: c.toId, reason };
}
