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
 * Two readers, tried in turn: a regular expression certifies a flat frame whole and
 * `walkFlat` jumps between its quotes (nearly every frame: trades, quotes, depth, l2update);
 * `readObject` reads any object of the subset character by character (klines, acks).
 * Values are reported as spans of the text (`Fields`), never copied until an adapter asks;
 * scan-values.ts reads them.
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

/** Slot of the key `text[start, end)`, or -1 for a key the adapter does not read. */
export type KeySlot = (text: string, start: number, end: number) => number;

// ---- Tier 1: a flat object certified by one regular expression, then walked. ----
//
// A regular expression test runs in V8's compiled regexp engine, several times faster than
// a character loop in JavaScript, and allocates nothing. These certify the common frames
// whole: after a match, every string is escape-free and every value's extent is known from
// its first character, so `walkFlat` only has to jump between quotes. Frames that do not
// match (nested objects, other arrays, whitespace) go to `readObject`, then to JSON.parse.

/** A JSON string without escapes or control characters (so its text is its value). */
export const STRING = '"[^"\\\\\\x00-\\x1f]*"';
/** The JSON number grammar. */
export const NUMBER = '-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?';
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

// ---- Tier 2: any object in the subset, read character by character. ----

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
