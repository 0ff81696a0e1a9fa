/**
 * Raw Kraken payloads (protocols.md §4). v1 samples are real, from cryptofeed's
 * KRAKEN.ws.48.0 / .49.0 / .50.0 (2021-04-17); no v2 recording exists anywhere, so the v2
 * shapes are the documentation's [K3][K4].
 */

/**
 * v1 trade: an ARRAY `[channelID, rows, "trade", pair]`, each row 6 strings
 * `[price, volume, time (s.µs), side b|s (taker), orderType l|m, misc]`; no trade id.
 * `[993,[["354.11000000","0.89594024","1618678142.557535","s","l",""]],"trade","XMR/USD"]`
 */
export type KrakenV1TradeRow = [price: string, volume: string, time: string, side: 'b' | 's', orderType: 'l' | 'm', misc: string];

/**
 * v1 ticker: `[1924,{"a":["0.043090",44640,"44640.00000000"],"b":["0.042960",15188,"15188.72189840"],
 * "c":["0.042960","5000.00000000"],"v":[…],"p":[…],"t":[…],"l":[…],"h":[…],"o":[…]},"ticker","SC/EUR"]`:
 * `a`/`b` = [price, whole lot volume, lot volume]. No time.
 */
export interface KrakenV1Ticker {
  a: [string, number, string];
  b: [string, number, string];
}

/**
 * v1 events: `{"connectionID":17843232920108168701,"event":"systemStatus","status":"online","version":"1.8.3"}`
 * (connectionID > 2^53), `{"channelID":1665,"channelName":"trade","event":"subscriptionStatus","pair":"WAVES/EUR",
 * "status":"subscribed","subscription":{"name":"trade"}}`, `{"event":"heartbeat"}`.
 */
export interface KrakenV1Event {
  event: string; status?: string; errorMessage?: string; pair?: string;
}

/**
 * v2 trade (doc): `{"channel":"trade","type":"update","data":[{"symbol":"MATIC/USD","side":"buy","price":0.5147,
 * "qty":6423.46326,"ord_type":"limit","trade_id":4665846,"timestamp":"2023-09-25T07:48:36.925533Z"}]}`.
 * `side` is the taker's; `trade_id` is a sequence per book.
 */
export interface KrakenV2Trade {
  symbol: string; side: 'buy' | 'sell'; price: number; qty: number; ord_type: string; trade_id: number; timestamp: string;
}

/** v2 ticker (doc): `{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":…,"bid_qty":…,"ask":…,"ask_qty":…,"last":…,…}]}`. */
export interface KrakenV2Ticker {
  symbol: string; bid: number; bid_qty: number; ask: number; ask_qty: number; timestamp?: string;
}
