/**
 * Coinbase fields by scanning (the fast path of decode.ts): one slot per key any route
 * reads — `type product_id trade_id price size side time` (match, last_match), `best_bid
 * best_ask best_bid_size best_ask_size` (ticker), `last_trade_id` (heartbeat), `message
 * reason` (error). Every Coinbase message is one object; other keys are checked and skipped.
 */
import { FLAT_FRAME, Fields, readObject, walkFlat } from '../scan.ts';

export const TYPE = 0;
export const PRODUCT_ID = 1;
export const TRADE_ID = 2;
export const PRICE = 3;
export const SIZE = 4;
export const SIDE = 5;
export const TIME = 6;
export const BEST_BID = 7;
export const BEST_ASK = 8;
export const BEST_BID_SIZE = 9;
export const BEST_ASK_SIZE = 10;
export const LAST_TRADE_ID = 11;
export const MESSAGE = 12;
export const REASON = 13;
const SLOTS = 14;

function slotOf(text: string, start: number, end: number): number {
  const c = text.charCodeAt(start);
  switch (end - start) {
    case 4:
      if (c === 116 /* t */) return text.startsWith('type', start) ? TYPE : text.startsWith('time', start) ? TIME : -1;
      if (c === 115 /* s */) return text.startsWith('size', start) ? SIZE : text.startsWith('side', start) ? SIDE : -1;
      return -1;
    case 5:
      return text.startsWith('price', start) ? PRICE : -1;
    case 6:
      return text.startsWith('reason', start) ? REASON : -1;
    case 7:
      return text.startsWith('message', start) ? MESSAGE : -1;
    case 8:
      if (c === 116) return text.startsWith('trade_id', start) ? TRADE_ID : -1;
      return text.startsWith('best_bid', start) ? BEST_BID : text.startsWith('best_ask', start) ? BEST_ASK : -1;
    case 10:
      return text.startsWith('product_id', start) ? PRODUCT_ID : -1;
    case 13:
      if (c === 108 /* l */) return text.startsWith('last_trade_id', start) ? LAST_TRADE_ID : -1;
      return text.startsWith('best_bid_size', start) ? BEST_BID_SIZE : text.startsWith('best_ask_size', start) ? BEST_ASK_SIZE : -1;
    default:
      return -1;
  }
}

/** Scratch slots, reused frame after frame (decoding is synchronous). */
const fields = new Fields(SLOTS);

/** The message's fields, or undefined when the JSON.parse path must decide. Valid until the next call. */
export function scanCoinbase(text: string): Fields | undefined {
  fields.clear();
  if (FLAT_FRAME.test(text)) return walkFlat(text, 0, fields, slotOf) < 0 ? undefined : fields;
  return readObject(text, 0, fields, slotOf) === text.length ? fields : undefined;
}
