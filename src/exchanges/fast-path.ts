/**
 * The shape every adapter with a fast path shares (issue 9): scan the few fields a route
 * needs (scan.ts), decode from them, and hand anything unusual — every frame the scanner
 * or the fast route declines, including every frame that is refused — to the JSON.parse
 * reading, which stays the oracle (test/property/decode-equivalence.test.ts).
 */
import type { LogEvent } from '../log/event.ts';
import type { MarketEvent } from '../market/events.ts';
import { num } from './common.ts';
import { Fields, NONE } from './scan.ts';
import { decimalAt } from './scan-values.ts';

/** The stateless first half of a fast path: a frame's text → its fields (or undefined: ask JSON.parse). */
export type Scanner = (text: string) => Fields | undefined;

/**
 * A frame whose scan was done ahead, on the reader thread (replayer/read-thread.ts): the
 * scanner's result packed in `scanBuf` at `scanAt` (see ScanPacker), or NOT_SCANNED.
 * The reader thread has the second core to spare; the thread that folds has not (issue 9).
 */
export interface Prescanned {
  readonly scanBuf: Int32Array;
  readonly scanAt: number;
}

/** `scanAt` of a frame nobody scanned ahead: the adapter scans it itself. */
export const NOT_SCANNED = -1;

/** Slots in the unpacking scratch: at least any scanner's (Binance 18, Coinbase 14). */
const MAX_SLOTS = 32;

/** Marks a scan that declined the frame (the JSON.parse path decides). */
const DECLINED = -1;

/**
 * Packs scan results one after another into an Int32Array: the number of fields found
 * (or DECLINED), then (slot, kind, start, end) per field found.
 */
export class ScanPacker {
  private buf = new Int32Array(1 << 14);
  private len = 0;

  /** Packs `f` (the scanner's result for one frame); returns where it starts. */
  pack(f: Fields | undefined): number {
    const at = this.len;
    if (f === undefined) {
      this.room(1);
      this.buf[this.len++] = DECLINED;
      return at;
    }
    const k = f.kind;
    this.room(1 + 4 * k.length);
    const b = this.buf;
    let i = at + 1;
    for (let slot = 0; slot < k.length; slot++) {
      if (k[slot] === NONE) continue;
      b[i] = slot;
      b[i + 1] = k[slot]!;
      b[i + 2] = f.start[slot]!;
      b[i + 3] = f.end[slot]!;
      i += 4;
    }
    b[at] = (i - at - 1) >> 2;
    this.len = i;
    return at;
  }

  /** The packed results so far (a copy sized to them); the packer starts again empty. */
  take(): Int32Array {
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    return out;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = new Int32Array(Math.max(this.buf.length * 2, this.len + n));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }
}

/** The Fields packed at `at` (into `into`, cleared first), or undefined for a declined frame. */
export function unpackScan(buf: Int32Array, at: number, into: Fields): Fields | undefined {
  const n = buf[at]!;
  if (n === DECLINED) return undefined;
  into.clear();
  for (let i = at + 1, end = at + 1 + 4 * n; i < end; i += 4) {
    const slot = buf[i]!;
    into.kind[slot] = buf[i + 1]!;
    into.start[slot] = buf[i + 2]!;
    into.end[slot] = buf[i + 3]!;
  }
  return into;
}

/**
 * The adapter: `scan` the frame's text, `fast` over the fields (undefined: ask the oracle),
 * else `exact`. Non-frame events (REST bodies, connection events) always go to `exact`.
 */
export function fastOrExact<S>(
  scan: Scanner,
  fast: (ev: LogEvent, f: Fields, state: S) => MarketEvent[] | undefined,
  exact: (ev: LogEvent, state: S) => MarketEvent[],
): (ev: LogEvent, state: S) => MarketEvent[] {
  const scratch = new Fields(MAX_SLOTS);
  return (ev, state) => {
    if (ev.kind === 'frame') {
      const pre = ev as LogEvent & Partial<Prescanned>;
      const at = pre.scanAt;
      const f = at === undefined || at === NOT_SCANNED ? scan(ev.payload) : unpackScan(pre.scanBuf!, at, scratch);
      const out = f === undefined ? undefined : fast(ev, f, state);
      if (out !== undefined) return out;
    }
    return exact(ev, state);
  };
}

/** A decimal string's value as `num` reads it: the quick way when it is a plain decimal. */
export function amountAt(text: string, start: number, end: number, field: string): number {
  const v = decimalAt(text, start, end);
  return v >= 0 ? v : num(text.slice(start, end), field);
}
