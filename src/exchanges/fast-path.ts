/**
 * The shape every adapter with a fast path shares (issue 9): scan the few fields a route
 * needs (scan.ts), decode from them, and hand anything unusual — every frame the scanner
 * or the fast route declines, including every frame that is refused — to the JSON.parse
 * reading, which stays the oracle (test/property/decode-equivalence.test.ts).
 */
import type { LogEvent } from '../log/event.ts';
import type { MarketEvent } from '../market/events.ts';
import { num } from './common.ts';
import type { Fields } from './scan.ts';
import { decimalAt } from './scan-values.ts';

/**
 * The adapter: `scan` the frame's text, `fast` over the fields (undefined: ask the oracle),
 * else `exact`. Non-frame events (REST bodies, connection events) always go to `exact`.
 */
export function fastOrExact<S>(
  scan: (text: string) => Fields | undefined,
  fast: (ev: LogEvent, f: Fields, state: S) => MarketEvent[] | undefined,
  exact: (ev: LogEvent, state: S) => MarketEvent[],
): (ev: LogEvent, state: S) => MarketEvent[] {
  return (ev, state) => {
    if (ev.kind === 'frame') {
      const f = scan(ev.payload);
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
