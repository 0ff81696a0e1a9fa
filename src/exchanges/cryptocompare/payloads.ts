/**
 * CryptoCompare streamer v2 payloads (protocols.md §5b, from the published spec: no real
 * capture exists). Every frame is a JSON object whose `TYPE` is a string.
 */

/**
 * Trade (`TYPE` "0"): `{"TYPE":"0","M":"Coinbase","FSYM":"BTC","TSYM":"USD","F":"2","ID":"12345678",
 * "TS":1593768260,"Q":0.01,"P":32500.12,"TOTAL":325.0012,"RTS":1593768260,"CCSEQ":987654321}`.
 * `F` is a string bitmask (&1 sell, &2 buy, &4 unknown, &8 reversed: the taker side); `TS` in
 * seconds, `TSNS` its ns part where the market has it; `Q`/`P` are JSON numbers; `CCSEQ` is
 * per (market, pair) and only on some markets.
 */
export interface CcTrade {
  TYPE: '0'; M: string; FSYM: string; TSYM: string; F: string; ID: string; TS: number; TSNS?: number; Q: number; P: number; CCSEQ?: number;
}

/** One level of a top-of-book frame: `{"P":32499.5,"Q":0.42,"REPORTEDNS":"1593768260123456789"}`. */
export interface CcLevel { P: number; Q: number; REPORTEDNS?: string | number }

/**
 * Top of book (`TYPE` "30"): the first frame of a subscription carries `BID` and `ASK`, later
 * ones one side at a time; `CCSEQ` goes up by one per frame.
 */
export interface CcTopOfBook {
  TYPE: '30'; M: string; FSYM: string; TSYM: string; CCSEQ?: number; BID?: CcLevel[]; ASK?: CcLevel[];
}
