/**
 * The fast path's reader: pulls the few fields an adapter needs out of a frame's text
 * without building the whole object (JSON.parse was 20% of replay time, issue 9).
 *
 * It reads a strict SUBSET of JSON, the compact form Binance and Coinbase send: no
 * whitespace between tokens, no escapes in strings, nesting at most MAX_DEPTH deep, and
 * no key it reads given twice. Within that subset it checks the whole frame as strictly as
 * JSON.parse does (a truncated depthUpdate is not "recognised"), and its values are those
 * JSON.parse would give. Outside it, it answers FALLBACK and the adapter runs its
 * JSON.parse path, which stays the oracle; test/property/decode-equivalence.test.ts proves
 * the two give the same events and counters.
 *
 * Values are reported as spans of the text (`Fields`), never copied until an adapter asks.
 */

/** Kinds of value a field can hold; NONE = the key was not in the object. */
export const NONE = 0;
export const STR = 1;
export const NUM = 2;
export const TRUE = 3;
export const FALSE = 4;
export const NULL = 5;
export const OBJ = 6;
export const ARR = 7;

/** Not in the subset (or not JSON): use JSON.parse. */
export const FALLBACK = -1;

/** Deeper nesting than this goes to JSON.parse (no exchange frame nests more than 4 deep). */
const MAX_DEPTH = 32;

/**
 * One object's fields of interest, by slot: kind, and the span of the value (for a string,
 * its content without the quotes; for a number, its token). Reused from frame to frame.
 */
export class Fields {
  readonly kind: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;

  constructor(slots: number) {
    this.kind = new Uint8Array(slots);
    this.start = new Int32Array(slots);
    this.end = new Int32Array(slots);
  }

  clear(): void {
    // A loop: TypedArray#fill costs more than it saves on a score of slots.
    const k = this.kind;
    for (let i = 0; i < k.length; i++) k[i] = NONE;
  }
}

// ---- Tier 1: a flat object certified by one regular expression, then walked. ----
//
// A regular expression test runs in V8's compiled regexp engine, several times faster than
// a character loop in JavaScript, and allocates nothing. These certify the common frames
// whole: after a match, every string is escape-free and every value's extent is known from
// its first character, so `walkFlat` only has to jump between quotes. Frames that do not
// match (nested objects, other arrays, whitespace) go to `readObject`, then to JSON.parse.

/** A JSON string without escapes or control characters (so its text is its value). */
const STRING = '"[^"\\\\\\x00-\\x1f]*"';
/** The JSON number grammar. */
const NUMBER = '-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?';
/**
 * A table: an array of arrays of plain strings (Binance depth levels `[["px","qty"],…]`,
 * Coinbase `changes`/`bids`/`asks`). No bracket can occur inside its strings, so its end is
 * the first `]]` (or `[]` when empty).
 */
const CELL = '"[0-9A-Za-z._-]*"';
const ROW = `\\[(?:${CELL}(?:,${CELL})*)?\\]`;
const TABLE = `\\[(?:${ROW}(?:,${ROW})*)?\\]`;
const VALUE = `(?:${STRING}|${NUMBER}|true|false|null|${TABLE})`;
const FLAT = `\\{(?:${STRING}:${VALUE}(?:,${STRING}:${VALUE})*)?\\}`;

/** A whole frame that is one flat object. */
export const FLAT_FRAME = new RegExp(`^${FLAT}$`);
/** A whole Binance combined-stream frame whose `data` is a flat object. */
export const ENVELOPE_FRAME = new RegExp(`^\\{"stream":${STRING},"data":${FLAT}\\}$`);

/**
 * Reads a flat object that FLAT_FRAME or ENVELOPE_FRAME certified, starting at its `{`,
 * into `fields` (cleared by the caller). Returns the index after its `}`, or FALLBACK for a
 * key read twice.
 */
export function walkFlat(text: string, pos: number, fields: Fields, slotOf: KeySlot): number {
  let i = pos + 1;
  if (text.charCodeAt(i) === 125) return i + 1;
  for (;;) {
    // Binance keys are one letter: look for the closing quote there before searching.
    const k1 = text.charCodeAt(i + 2) === 34 ? i + 2 : text.indexOf('"', i + 1);
    const slot = slotOf(text, i + 1, k1);
    const v = k1 + 2;
    const c = text.charCodeAt(v);
    let end: number;
    let kind: number;
    let s = v;
    let e: number;
    if (c === 34) {
      s = v + 1;
      e = text.indexOf('"', s);
      end = e + 1;
      kind = STR;
    } else if (c === 91) {
      end = text.charCodeAt(v + 1) === 93 ? v + 2 : text.indexOf(']]', v) + 2;
      e = end;
      kind = ARR;
    } else {
      end = v + 1;
      for (let d = text.charCodeAt(end); d !== 44 && d !== 125; d = text.charCodeAt(++end));
      e = end;
      kind = c === 116 ? TRUE : c === 102 ? FALSE : c === 110 ? NULL : NUM;
    }
    if (slot >= 0) {
      if (fields.kind[slot] !== NONE) return FALLBACK;
      fields.kind[slot] = kind;
      fields.start[slot] = s;
      fields.end[slot] = e;
    }
    if (text.charCodeAt(end) === 125) return end + 1;
    i = end + 1;
  }
}

/** Slot of the key `text[start, end)`, or -1 for a key the adapter does not read. */
export type KeySlot = (text: string, start: number, end: number) => number;

/**
 * Reads the object starting at `pos` into `fields` (which the caller cleared); an object
 * value under slot `nested` is read into `inner` with the same key table. Returns the
 * index after the closing brace, or FALLBACK.
 */
export function readObject(text: string, pos: number, fields: Fields, slotOf: KeySlot, nested = -1, inner?: Fields): number {
  const n = text.length;
  let i = pos;
  if (text.charCodeAt(i) !== 123 /* { */) return FALLBACK;
  i++;
  if (text.charCodeAt(i) === 125 /* } */) return i + 1;
  for (;;) {
    if (text.charCodeAt(i) !== 34 /* " */) return FALLBACK;
    const k0 = i + 1;
    const k1 = skipString(text, k0, n);
    if (k1 < 0 || text.charCodeAt(k1) !== 58 /* : */) return FALLBACK;
    const slot = slotOf(text, k0, k1 - 1);
    i = k1 + 1;
    let end: number;
    if (slot < 0) {
      end = skipValue(text, i, n, 1);
    } else {
      if (fields.kind[slot] !== NONE) return FALLBACK; // a key given twice: JSON.parse keeps the last
      const c = text.charCodeAt(i);
      let kind: number;
      if (c === 34) {
        kind = STR;
        end = skipString(text, i + 1, n);
        fields.start[slot] = i + 1;
        fields.end[slot] = end - 1;
      } else {
        if (c === 123 && slot === nested && inner !== undefined) {
          end = readObject(text, i, inner, slotOf);
          kind = OBJ;
        } else {
          end = skipValue(text, i, n, 1);
          kind = c === 123 ? OBJ : c === 91 ? ARR : c === 116 ? TRUE : c === 102 ? FALSE : c === 110 ? NULL : NUM;
        }
        fields.start[slot] = i;
        fields.end[slot] = end;
      }
      fields.kind[slot] = kind;
    }
    if (end < 0) return FALLBACK;
    const c = text.charCodeAt(end);
    if (c === 44 /* , */) i = end + 1;
    else if (c === 125 /* } */) return end + 1;
    else return FALLBACK;
  }
}

/** After the opening quote: index after the closing quote; FALLBACK on an escape, a control character (invalid JSON) or the end. */
function skipString(text: string, i: number, n: number): number {
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) return i + 1;
    if (c === 92 || c < 32) return FALLBACK;
  }
  return FALLBACK;
}

function skipValue(text: string, i: number, n: number, depth: number): number {
  const c = text.charCodeAt(i);
  if (c === 34) return skipString(text, i + 1, n);
  if (c === 123) return skipObject(text, i, n, depth + 1);
  if (c === 91) return skipArray(text, i, n, depth + 1);
  if (c === 116) return text.startsWith('true', i) ? i + 4 : FALLBACK;
  if (c === 102) return text.startsWith('false', i) ? i + 5 : FALLBACK;
  if (c === 110) return text.startsWith('null', i) ? i + 4 : FALLBACK;
  return skipNumber(text, i, n);
}

function skipObject(text: string, i: number, n: number, depth: number): number {
  if (depth > MAX_DEPTH) return FALLBACK;
  i++;
  if (text.charCodeAt(i) === 125) return i + 1;
  for (;;) {
    if (text.charCodeAt(i) !== 34) return FALLBACK;
    i = skipString(text, i + 1, n);
    if (i < 0 || text.charCodeAt(i) !== 58) return FALLBACK;
    i = skipValue(text, i + 1, n, depth);
    if (i < 0) return FALLBACK;
    const c = text.charCodeAt(i);
    if (c === 44) i++;
    else if (c === 125) return i + 1;
    else return FALLBACK;
  }
}

function skipArray(text: string, i: number, n: number, depth: number): number {
  if (depth > MAX_DEPTH) return FALLBACK;
  i++;
  if (text.charCodeAt(i) === 93 /* ] */) return i + 1;
  for (;;) {
    i = skipValue(text, i, n, depth);
    if (i < 0) return FALLBACK;
    const c = text.charCodeAt(i);
    if (c === 44) i++;
    else if (c === 93) return i + 1;
    else return FALLBACK;
  }
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** A JSON number token: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
function skipNumber(text: string, i: number, n: number): number {
  if (text.charCodeAt(i) === 45 /* - */) i++;
  const c = text.charCodeAt(i);
  if (c === 48) i++;
  else if (c >= 49 && c <= 57) {
    do i++; while (i < n && isDigit(text.charCodeAt(i)));
  } else return FALLBACK;
  if (text.charCodeAt(i) === 46 /* . */) {
    i++;
    if (!isDigit(text.charCodeAt(i))) return FALLBACK;
    do i++; while (i < n && isDigit(text.charCodeAt(i)));
  }
  const e = text.charCodeAt(i);
  if (e === 101 || e === 69) {
    i++;
    const s = text.charCodeAt(i);
    if (s === 43 || s === 45) i++;
    if (!isDigit(text.charCodeAt(i))) return FALLBACK;
    do i++; while (i < n && isDigit(text.charCodeAt(i)));
  }
  return i;
}

/**
 * A NUM token that is a plain non-negative integer of at most 15 digits (so exactly a safe
 * integer, as JSON.parse reads it), or FALLBACK for anything else (sign, fraction,
 * exponent, more digits: the JSON.parse path decides those).
 */
export function intAt(text: string, start: number, end: number): number {
  const len = end - start;
  if (len < 1 || len > 15) return FALLBACK;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return FALLBACK;
    v = v * 10 + (c - 48);
  }
  return v;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * A decimal string's value (`"61837.63000000"`), equal to `Number(s)` for the strings it
 * accepts: digits, at most one point with digits on both sides, at most 15 digits in all.
 * Then the digits form an exact integer m < 2^53 and 10^k is exact, so m / 10^k is one
 * correctly rounded IEEE division: the double nearest the decimal, as Number() gives
 * (Clinger's fast path). Anything else is FALLBACK.
 */
export function decimalAt(text: string, start: number, end: number): number {
  let m = 0;
  let digits = 0;
  let point = -1;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
    } else if (c === 46 && point < 0 && i > start) {
      point = i;
    } else return FALLBACK;
  }
  if (digits === 0 || digits > 15 || point === end - 1) return FALLBACK;
  return point < 0 ? m : m / POW10[end - point - 1]!;
}

/** Whether `text[start, end)` is exactly `word`. */
export function spanIs(text: string, start: number, end: number, word: string): boolean {
  return end - start === word.length && text.startsWith(word, start);
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction]Z` → integer µs since the epoch (fraction truncated to µs),
 * by days-from-civil arithmetic (H. Hinnant), with no Date.parse and no BigInt. It equals
 * `Number(isoToNs(s) / 1000n)` for what it accepts: a real calendar date from 1970 on,
 * hours 00–23, minutes and seconds 00–59, and a result below 2^53. Anything else (a leap
 * second, Feb 30, 24:00, years before 1970 where BigInt division rounds toward zero) is
 * FALLBACK, for the exact path to decide.
 */
export function isoUsAt(text: string, start: number, end: number): number {
  if (end - start < 20 || text.charCodeAt(end - 1) !== 90 /* Z */) return FALLBACK;
  if (text.charCodeAt(start + 4) !== 45 || text.charCodeAt(start + 7) !== 45 || text.charCodeAt(start + 10) !== 84
    || text.charCodeAt(start + 13) !== 58 || text.charCodeAt(start + 16) !== 58) return FALLBACK;
  const y = digitsAt(text, start, 4);
  const mo = digitsAt(text, start + 5, 2);
  const d = digitsAt(text, start + 8, 2);
  const h = digitsAt(text, start + 11, 2);
  const mi = digitsAt(text, start + 14, 2);
  const s = digitsAt(text, start + 17, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) {
    return FALLBACK;
  }
  let us = 0;
  let i = start + 19;
  if (i < end - 1) {
    if (text.charCodeAt(i) !== 46) return FALLBACK;
    i++;
    if (i === end - 1) return FALLBACK; // "." without digits
    let taken = 0;
    for (; i < end - 1; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return FALLBACK;
      if (taken < 6) {
        us = us * 10 + (c - 48);
        taken++;
      }
    }
    us *= POW10[6 - taken]!;
  }
  const secs = daysFromCivil(y, mo, d) * 86_400 + h * 3_600 + mi * 60 + s;
  const total = secs * 1_000_000 + us;
  return total <= Number.MAX_SAFE_INTEGER ? total : FALLBACK;
}

/** `count` decimal digits at `i` as a number, or -1. */
function digitsAt(text: string, i: number, count: number): number {
  let v = 0;
  for (let k = i; k < i + count; k++) {
    const c = text.charCodeAt(k);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (y ≥ 1, so every division is of non-negatives). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * The symbol at `text[start, end)` as a string, validated like any symbol (`check`), and the
 * same string object as last time when it repeats: no copy, and Map lookups reuse its hash.
 * A string fails or passes `check` by its content alone, so remembering passes is safe.
 */
export class SymbolCache {
  private readonly recent: string[] = [];

  constructor(private readonly check: (s: string) => string) {}

  at(text: string, start: number, end: number): string {
    const len = end - start;
    for (const s of this.recent) if (s.length === len && text.startsWith(s, start)) return s;
    const s = this.check(text.slice(start, end));
    if (this.recent.length >= 16) this.recent.pop();
    this.recent.unshift(s);
    return s;
  }
}
