/**
 * Raw Bitstamp WebSocket v2 payloads, samples from cryptofeed's BITSTAMP.ws.1.0 (2022,
 * compact) and BITSTAMP-b88f8b.0 (2021, sorted keys and `", "` spacing) (protocols.md §5).
 */

/**
 * `{"data":{"id":216000477,"timestamp":"1641343699","amount":0.0792,"amount_str":"0.07920000","price":3805.44,
 * "price_str":"3805.44","type":0,"microtimestamp":"1641343699596000","buy_order_id":1443875737346049,
 * "sell_order_id":1443875731320832},"channel":"live_trades_ethusd","event":"trade"}`.
 * `type` 0/1 = taker buy/sell; `id` is global across pairs; `*_str` are the exact decimals.
 */
export interface BitstampTrade {
  id: number; timestamp: string; microtimestamp: string; amount_str: string; price_str: string; type: 0 | 1;
}

/** `order_book_<pair>` (top 100): `{"data":{"timestamp":"…","microtimestamp":"…","bids":[["px","qty"],…],"asks":[…]},"channel":"order_book_btcusd","event":"data"}`. */
export interface BitstampBook {
  microtimestamp: string; bids: [string, string][]; asks: [string, string][];
}

/** REST `GET /api/v2/transactions/{pair}/` row (newest first): `{"date":"1641343699","tid":"216000477","price":"3805.44","amount":"0.07920000","type":"0"}`. */
export interface BitstampTransaction {
  date: string; tid: string; price: string; amount: string; type: string;
}
