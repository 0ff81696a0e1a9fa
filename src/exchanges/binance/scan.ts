/**
 * Binance fields by scanning (the fast path of decode.ts): the combined-stream envelope
 * `{"stream":"…","data":{…}}` or a raw payload, read into slots, one per key any Binance
 * route reads (protocols.md §1). Keys no route reads are checked as JSON and skipped.
 */
import { ENVELOPE_FRAME, FLAT_FRAME, Fields, NONE, OBJ, readObject, STR, walkFlat } from '../scan.ts';

/** Envelope and ack keys. */
export const STREAM = 0;
export const DATA = 1;
export const RESULT = 2;
export const ID = 3;
export const CODE = 4;
export const MSG = 5;
/** Payload keys: `e s t p q T m` (trade), `a` (aggTrade id, bookTicker ask), `u b B A` (bookTicker). */
export const E = 6;
export const S = 7;
export const T_ID = 8;
export const A = 9;
export const P = 10;
export const Q = 11;
export const T_TIME = 12;
export const M = 13;
export const U = 14;
export const B = 15;
export const B_QTY = 16;
export const A_QTY = 17;
const SLOTS = 18;

/** One-letter keys by character code. */
const LETTER = new Int8Array(128).fill(-1);
LETTER[101 /* e */] = E;
LETTER[115 /* s */] = S;
LETTER[116 /* t */] = T_ID;
LETTER[97 /* a */] = A;
LETTER[112 /* p */] = P;
LETTER[113 /* q */] = Q;
LETTER[84 /* T */] = T_TIME;
LETTER[109 /* m */] = M;
LETTER[117 /* u */] = U;
LETTER[98 /* b */] = B;
LETTER[66 /* B */] = B_QTY;
LETTER[65 /* A */] = A_QTY;

function slotOf(text: string, start: number, end: number): number {
  switch (end - start) {
    case 1: {
      const c = text.charCodeAt(start);
      return c < 128 ? LETTER[c]! : -1;
    }
    case 2:
      return text.startsWith('id', start) ? ID : -1;
    case 3:
      return text.startsWith('msg', start) ? MSG : -1;
    case 4:
      return text.startsWith('data', start) ? DATA : text.startsWith('code', start) ? CODE : -1;
    case 6:
      return text.startsWith('stream', start) ? STREAM : text.startsWith('result', start) ? RESULT : -1;
    default:
      return -1;
  }
}

/** Scratch slots, reused frame after frame (decoding is synchronous). */
const top = new Fields(SLOTS);
const inner = new Fields(SLOTS);

/**
 * The payload's fields of a data frame — the envelope's `data`, or the frame itself for a
 * raw stream — or undefined when the JSON.parse path must decide: acks and errors
 * (`result`, `code`), an envelope without an object `data`, or anything outside the scanner's
 * subset of JSON. The Fields are valid until the next call.
 */
export function scanBinance(text: string): Fields | undefined {
  top.clear();
  if (ENVELOPE_FRAME.test(text)) {
    // `{"stream":"…","data":{…}}`: the data object starts after `","data":`.
    inner.clear();
    return walkFlat(text, text.indexOf('"', 11) + 9, inner, slotOf) < 0 ? undefined : inner;
  }
  if (FLAT_FRAME.test(text)) return walkFlat(text, 0, top, slotOf) < 0 ? undefined : payload();
  inner.clear();
  if (readObject(text, 0, top, slotOf, DATA, inner) !== text.length) return undefined;
  return payload();
}

function payload(): Fields | undefined {
  const k = top.kind;
  if (k[RESULT] !== NONE || k[CODE] !== NONE) return undefined;
  if (k[STREAM] === STR && k[DATA] === OBJ) return inner;
  // No envelope: a raw stream payload. (An envelope with a `data` of another kind, or a
  // `stream` with no `data`, is rare and left to JSON.parse.)
  if (k[STREAM] === NONE && k[DATA] === NONE) return top;
  return undefined;
}
