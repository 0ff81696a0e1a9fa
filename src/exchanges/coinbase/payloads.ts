/** Raw Coinbase Exchange payloads, with real samples from cryptofeed's COINBASE.ws.28.0. */

/**
 * `{"type":"match","trade_id":280232,"maker_order_id":"2a0da34e-…","taker_order_id":"3c82abaa-…",
 *   "side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC","sequence":177100030,
 *   "time":"2021-04-17T16:43:37.089723Z"}` — `side` is the MAKER side.
 */
export interface CoinbaseMatch {
  type: 'match' | 'last_match'; trade_id: number; maker_order_id: string; taker_order_id: string;
  side: 'buy' | 'sell'; size: string; price: string; product_id: string; sequence: number; time: string;
}

/**
 * `{"type":"ticker","sequence":333938798,"product_id":"BAND-GBP","price":"14.7775","open_24h":"…",
 *   "best_bid":"14.7550","best_ask":"14.8060","side":"buy","time":"…","trade_id":881613,"last_size":"0.04"}`
 * — `side` is the TAKER side.
 */
export interface CoinbaseTicker {
  type: 'ticker'; sequence: number; product_id: string; price: string; best_bid?: string; best_ask?: string;
  best_bid_size?: string; best_ask_size?: string; side?: 'buy' | 'sell'; time?: string; trade_id?: number; last_size?: string;
}

/** Doc sample (no real one recorded): `{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"}` */
export interface CoinbaseHeartbeat {
  type: 'heartbeat'; sequence: number; last_trade_id: number; product_id: string; time: string;
}
