/**
 * Raw Binance spot payloads, each with a real sample from the hftbacktest recording
 * (btcusdt_20240808.gz) or cryptofeed's (BINANCE-ee25be.0).
 */

/**
 * `{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000",
 *   "q":"0.02000000","T":1723161255342,"m":true,"M":true}`
 * Before 2024-06-18 it also carried the order ids `b` and `a`.
 */
export interface BinanceTrade {
  e: 'trade'; E: number; s: string; t: number; p: string; q: string; T: number; m: boolean; M: boolean;
  b?: number; a?: number;
}

/** `{"e":"aggTrade","E":1617566591315,"s":"BTCUSDT","a":665076760,"p":"58001.03000000","q":"0.08620500","f":745522877,"l":745522877,"T":1617566591314,"m":true,"M":true}` */
export interface BinanceAggTrade {
  e: 'aggTrade'; E: number; s: string; a: number; p: string; q: string; f: number; l: number; T: number; m: boolean; M: boolean;
}

/** Spot: `{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}` (no `e`, no time). */
export interface BinanceBookTicker {
  u: number; s: string; b: string; B: string; a: string; A: string; T?: number; E?: number;
}

/**
 * REST `GET /api/v3/historicalTrades` row (doc shape; `id` is the stream's `t`):
 * `{"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","time":1499865549590,"isBuyerMaker":true,"isBestMatch":true}`
 */
export interface BinanceHistoricalTrade {
  id: number; price: string; qty: string; quoteQty: string; time: number; isBuyerMaker: boolean; isBestMatch: boolean;
}
