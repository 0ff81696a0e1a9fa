/**
 * CryptoCompare streamer v2's wire shapes (protocols.md §5b, from the published spec): the
 * client's `SubAdd`, the server's control frames, and its trade and top-of-book frames for
 * simulated market events. The simulated markets differ as real ones do: some send `TSNS`
 * and `CCSEQ`, some neither.
 */
import { tradeDecimals, type SimQuote, type SimTrade } from '../../sim/market.ts';
import { CC_MARKETS } from './markets.ts';

/** The channels tapedeck subscribes to per market: 0 trades, 30 top of book. */
export const CC_CHANNELS = ['0', '30'] as const;

/** `Coinbase~BTC~USD` → its subscriptions (`0~Coinbase~BTC~USD`, `30~Coinbase~BTC~USD`). */
export const ccSubs = (symbols: readonly string[]): string[] => CC_CHANNELS.flatMap((c) => symbols.map((s) => `${c}~${s}`));

export const ccSubAdd = (symbols: readonly string[]): string => JSON.stringify({ action: 'SubAdd', subs: ccSubs(symbols) });

/** The streamer URL with the key (what the socket opens) and with the key masked (what is logged). */
export const ccUrl = (ws: string, key: string): string => `${ws}?api_key=${encodeURIComponent(key)}`;

export const ccWelcome = (serverTimeMs: number): string =>
  `{"TYPE":"20","MESSAGE":"STREAMERWELCOME","SERVER_UPTIME_SECONDS":6,"SERVER_NAME":"tapedeck-sim","SERVER_TIME_MS":${serverTimeMs},"CLIENT_ID":5509,"DATA_FORMAT":"JSON","SOCKETS_ACTIVE":1,"SOCKETS_REMAINING":0,"RATELIMIT_MAX_SECOND":30,"RATELIMIT_MAX_MINUTE":60,"RATELIMIT_MAX_HOUR":1200,"RATELIMIT_MAX_DAY":10000,"RATELIMIT_MAX_MONTH":20000,"RATELIMIT_REMAINING_SECOND":29,"RATELIMIT_REMAINING_MINUTE":59,"RATELIMIT_REMAINING_HOUR":1199,"RATELIMIT_REMAINING_DAY":9999,"RATELIMIT_REMAINING_MONTH":19981}`;

export const ccSubscribed = (sub: string): string => `{"TYPE":"16","MESSAGE":"SUBSCRIBECOMPLETE","SUB":${JSON.stringify(sub)}}`;

export const CC_LOADCOMPLETE = '{"TYPE":"3","MESSAGE":"LOADCOMPLETE","INFO":"All your valid subs have been loaded."}';

export const ccHeartbeat = (timeMs: number): string => `{"TYPE":"999","MESSAGE":"HEARTBEAT","TIMEMS":${timeMs}}`;

export const ccError = (type: '401' | '429' | '500', message: string, info: string, parameter?: string): string =>
  `{"TYPE":"${type}","MESSAGE":${JSON.stringify(message)}${parameter !== undefined ? `,"PARAMETER":${JSON.stringify(parameter)}` : ''},"INFO":${JSON.stringify(info)}}`;

/** The server's notice before it closes a socket. */
export const CC_FORCE_DISCONNECT = ccError('500', 'FORCE_DISCONNECT', 'The server is restarting, please reconnect.');

const parts = (symbol: string): [string, string, string] => symbol.split('~') as [string, string, string];

/** A trade frame: `F` 1 sell / 2 buy; `TSNS` and `CCSEQ` where the market sends them. */
export function ccTrade(t: SimTrade): string {
  const [m, f, q] = parts(t.symbol);
  const d = tradeDecimals(t, 2);
  const s = Math.floor(t.tsUs / 1e6);
  const caps = CC_MARKETS[m] ?? { tsns: false, ccseq: false };
  const total = Number((Number(d.price) * Number(d.size)).toFixed(10));
  return `{"TYPE":"0","M":"${m}","FSYM":"${f}","TSYM":"${q}","F":"${t.side === 'sell' ? 1 : 2}","ID":"${t.tradeId}","TS":${s},`
    + `${caps.tsns ? `"TSNS":${(t.tsUs % 1e6) * 1000},` : ''}"Q":${Number(d.size)},"P":${Number(d.price)},"TOTAL":${total},"RTS":${s}`
    + `${caps.ccseq ? `,"CCSEQ":${ccSeq(t.tradeId)}` : ''}}`;
}

/** A market's CCSEQ for a simulated trade: monotonic with its id, not equal to it. */
export const ccSeq = (tradeId: number): number => 7_000_000 + tradeId;

/** A top-of-book frame with both sides (the simulated book moves both at once). */
export function ccTopOfBook(q: SimQuote, seq: number): string {
  const [m, f, t] = parts(q.symbol);
  const ns = `"${BigInt(q.tsUs) * 1000n}"`;
  return `{"TYPE":"30","M":"${m}","FSYM":"${f}","TSYM":"${t}","CCSEQ":${seq},"BID":[{"P":${q.bid},"Q":${q.bidSize},"REPORTEDNS":${ns}}],"ASK":[{"P":${q.ask},"Q":${q.askSize},"REPORTEDNS":${ns}}]}`;
}
