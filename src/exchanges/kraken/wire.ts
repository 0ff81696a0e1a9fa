/**
 * Kraken WebSocket v2's wire shapes for simulated market events, as documented [K3][K4]
 * (no real v2 capture exists; payloads.ts has the documentation's samples): prices and
 * sizes are JSON numbers, times RFC 3339 with µs. Also its REST `Trades` body, whose rows are
 * arrays with the trade id last.
 */
import { isoMicros } from '../../log/time.ts';
import { tradeDecimals, type SimQuote, type SimTrade } from '../../sim/market.ts';
import { splitOnQuotes } from '../spec.ts';

export const krakenSubscribe = (params: Record<string, unknown>, reqId: number): string => JSON.stringify({ method: 'subscribe', params, req_id: reqId });

/** What a recorder subscribes to: trades with the snapshot of recent ones, and the ticker on every best bid/offer change. */
export const krakenSubscriptions = (symbols: readonly string[]): string[] => [
  krakenSubscribe({ channel: 'trade', symbol: [...symbols], snapshot: true }, 1),
  krakenSubscribe({ channel: 'ticker', symbol: [...symbols], event_trigger: 'bbo' }, 2),
];

/** The ack of one symbol's subscription (one per symbol, `result.symbol` a single string). */
export function krakenSubscribed(channel: string, symbol: string, reqId: number | undefined, timeUs: number): string {
  const at = isoMicros(timeUs);
  const snapshot = channel === 'trade' || channel === 'ticker' ? ',"snapshot":true' : '';
  return `{"method":"subscribe","result":{"channel":"${channel}","symbol":${JSON.stringify(symbol)}${snapshot}},"success":true,"time_in":"${at}","time_out":"${at}"${reqId === undefined ? '' : `,"req_id":${reqId}`}}`;
}

/** The status message the server sends on connect. */
export const krakenStatus = (connectionId: bigint): string =>
  `{"channel":"status","type":"update","data":[{"version":"2.0.9","system":"online","api_version":"v2","connection_id":${connectionId}}]}`;

export const KRAKEN_HEARTBEAT = '{"channel":"heartbeat"}';

function tradeRow(t: SimTrade): string {
  const d = tradeDecimals(t, 2);
  return `{"symbol":"${t.symbol}","side":"${t.side}","price":${Number(d.price)},"qty":${Number(d.size)},"ord_type":"market","trade_id":${t.tradeId},"timestamp":"${isoMicros(t.tsUs)}"}`;
}

/** A `trade` message: `update` as trades happen, `snapshot` of the most recent ones on subscribe. */
export function krakenTrades(type: 'snapshot' | 'update', trades: readonly SimTrade[]): string {
  return `{"channel":"trade","type":"${type}","data":[${trades.map(tradeRow).join(',')}]}`;
}

/** A `ticker` message for a best bid/offer change; `last` is the symbol's last trade price, if any. */
export function krakenTicker(type: 'snapshot' | 'update', q: SimQuote, last: number | undefined): string {
  const px = last ?? Number(((q.bid + q.ask) / 2).toFixed(2));
  return `{"channel":"ticker","type":"${type}","data":[{"symbol":"${q.symbol}","bid":${q.bid},"bid_qty":${q.bidSize},"ask":${q.ask},"ask_qty":${q.askSize},"last":${px},"volume":0,"vwap":${px},"low":${px},"high":${px},"change":0,"change_pct":0,"timestamp":"${isoMicros(q.tsUs)}"}]}`;
}

/** `GET /0/public/Trades` rows `[price, volume, time, side b|s, ordertype, misc, trade_id]`, oldest first, under the pair's name (`BTCUSD`). */
export function krakenRestTrades(trades: readonly SimTrade[], pairName?: string): string {
  const sorted = [...trades].sort((a, b) => a.tradeId - b.tradeId);
  const rows = sorted.map((t) => {
    const d = tradeDecimals(t, 2);
    return `["${d.price}","${d.size}",${(t.tsUs / 1e6).toFixed(6)},"${t.side === 'buy' ? 'b' : 's'}","m","",${t.tradeId}]`;
  });
  const pair = pairName ?? sorted[0]?.symbol.replace('/', '') ?? '';
  return `{"error":[],"result":{"${pair}":[${rows.join(',')}],"last":"${(sorted.at(-1)?.tsUs ?? 0) * 1000}"}}`;
}

/** The REST trades of a pair (`BTC/USD` → `pair=BTCUSD`) since a time cursor in ns (Kraken pages by time, not by id). */
export function krakenTradesUrl(symbol: string, sinceNs: number | bigint, base?: string): string {
  return `${base ?? 'https://api.kraken.com'}/0/public/Trades?pair=${symbol.replace('/', '')}&since=${sinceNs}`;
}

/** Kraken's quote assets, a longer name before any it ends with (`USDT` before `USD`). */
const QUOTES = ['USDT', 'USDC', 'PYUSD', 'USD', 'EUR', 'GBP', 'CAD', 'JPY', 'CHF', 'AUD', 'BTC', 'XBT', 'ETH', 'DAI'];

/** The v2 symbol of a logged REST request's pair (`pair=BTCUSD` → `BTC/USD`), undefined without one. */
export function krakenRestSymbol(url: string): string | undefined {
  const pair = /[?&]pair=([A-Za-z0-9]+)/.exec(url)?.[1];
  const split = pair === undefined ? undefined : splitOnQuotes(QUOTES)(pair);
  return split === undefined ? pair : split.join('/');
}
