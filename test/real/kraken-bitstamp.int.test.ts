/**
 * The Kraken and Bitstamp adapters on every frame shape of the real recordings (cryptofeed,
 * shared/fixtures/real): one real frame per shape, decoded, with what it must yield written
 * out; then each recording whole: no decode error, no unknown message. Kraken v2 and the
 * Bitstamp REST `transactions` body have no recording anywhere: those cases use the
 * documentation's shapes (protocols.md §4, §5) and say so.
 */
import { describe, expect, it } from 'vitest';
import { decodeBitstamp, newBitstampState } from '../../src/exchanges/bitstamp/decode.ts';
import { decodeKraken, newKrakenState } from '../../src/exchanges/kraken/decode.ts';
import { canonicalAsset } from '../../src/exchanges/registry.ts';
import { parseCryptofeedLine } from '../../src/importers/formats.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { REAL, readLines, real } from '../helpers.ts';

function eventsOf(exchange: string, rel: string): LogEvent[] {
  return readLines(real(rel)).flatMap((line, i) => {
    const r = parseCryptofeedLine(line);
    return r ? [{ session: 's', ingestSeq: i, recvNs: r.recvNs, exchange, conn: 'c', kind: r.kind, payload: r.payload, meta: r.meta }] : [];
  });
}

/** The first received frame (or REST body) whose text matches `re`. */
const first = (evs: LogEvent[], re: RegExp): LogEvent => evs.find((e) => (e.kind === 'frame' || e.kind === 'rest') && re.test(e.payload))!;
const at = { session: 's' };

describe.skipIf(!REAL)('Kraken adapter, v1 frames of the real recordings', () => {
  const evs = REAL ? ['KRAKEN.ws.48.0', 'KRAKEN.ws.49.0', 'KRAKEN.ws.50.0', 'KRAKEN-82ac16.0'].flatMap((f) => eventsOf('kraken', `kraken/cryptofeed/${f}`)) : [];

  it('systemStatus: the system status, its 64-bit connectionID untouched', () => {
    const ev = first(evs, /"event":"systemStatus"/);
    expect(ev.payload).toContain('"connectionID":18239578009413566319');
    expect(decodeKraken(ev, newKrakenState())).toMatchObject([{ type: 'status', status: 'system', detail: 'online', at }]);
  });

  it('subscriptionStatus subscribed, and heartbeat', () => {
    expect(decodeKraken(first(evs, /"event":"subscriptionStatus"/), newKrakenState())).toMatchObject([{ type: 'status', status: 'subscribed' }]);
    expect(decodeKraken(first(evs, /^\{"event":"heartbeat"\}$/), newKrakenState())).toMatchObject([{ type: 'status', status: 'heartbeat' }]);
  });

  it('a trade array of two rows: two trades, taker side b/s, exact µs time, no trade id (v1 has none)', () => {
    const ev = first(evs, /^\[993,\[\["354\.04000000"/);
    expect(decodeKraken(ev, newKrakenState())).toEqual([
      { type: 'trade', exchange: 'kraken', recvNs: ev.recvNs, at: { session: 's', ingestSeq: ev.ingestSeq }, symbol: 'XMR/USD', tradeId: 0n, price: 354.04, size: 0.28245396, side: 'sell', tsUs: 1_618_678_150_826_417 },
      { type: 'trade', exchange: 'kraken', recvNs: ev.recvNs, at: { session: 's', ingestSeq: ev.ingestSeq }, symbol: 'XMR/USD', tradeId: 0n, price: 353.81, size: 1.71754604, side: 'sell', tsUs: 1_618_678_150_827_816 },
    ]);
    expect(decodeKraken(first(evs, /"b","m",""\]\],"trade"/), newKrakenState())[0]).toMatchObject({ side: 'buy' });
  });

  it('ticker: best bid/offer from b and a (price, lot volume), no time', () => {
    const ev = first(evs, /^\[1924,\{"a":\["0\.043080"/);
    expect(decodeKraken(ev, newKrakenState())).toMatchObject([{ type: 'quote', symbol: 'SC/EUR', bid: 0.04302, bidSize: 19451.47745395, ask: 0.04308, askSize: 42461.83886926, tsUs: undefined }]);
  });

  it('book-1000 frames are recognised and counted, not read', () => {
    const s = newKrakenState();
    expect(decodeKraken(first(evs, /^\[\d+,\{"as":/), s)).toEqual([]);
    expect(s.counts.recognised).toEqual({ book: 1 });
  });

  it('decodes the four files with no error and no unknown message, and XBT is BTC', () => {
    const s = newKrakenState();
    const out = evs.flatMap((ev) => decodeKraken(ev, s));
    expect(out.filter((m) => m.type === 'decode_error')).toEqual([]);
    expect(s.counts.unknown).toEqual({});
    expect(out.filter((m) => m.type === 'trade')).toHaveLength(38);
    expect(out.filter((m) => m.type === 'quote')).toHaveLength(18);
    expect(canonicalAsset('kraken', 'XBT/USD', { usdtAsUsd: true, mapping: {} })).toBe('BTC/USD');
  });
});

describe('Kraken adapter, v2 (documentation shapes: no v2 recording exists)', () => {
  const ev = (payload: string, ingestSeq = 0): LogEvent => ({ session: 's', ingestSeq, recvNs: 1_695_628_117_000_000_000n, exchange: 'kraken', conn: 'c', kind: 'frame', payload, meta: '' });
  const trade = (id: number, type = 'update'): string =>
    `{"channel":"trade","type":"${type}","data":[{"symbol":"MATIC/USD","side":"buy","price":0.5147,"qty":6423.46326,"ord_type":"limit","trade_id":${id},"timestamp":"2023-09-25T07:48:36.925533Z"}]}`;

  it('trades by trade_id: a jump is a gap, the subscribe snapshot repeated is a duplicate', () => {
    const s = newKrakenState();
    expect(decodeKraken(ev(trade(4665846, 'snapshot')), s)).toMatchObject([{ type: 'trade', tradeId: 4665846n, price: 0.5147, size: 6423.46326, side: 'buy', tsUs: 1_695_628_116_925_533 }]);
    expect(decodeKraken(ev(trade(4665846, 'snapshot'), 1), s)).toEqual([]);
    expect(s.counts.duplicates).toBe(1);
    expect(decodeKraken(ev(trade(4665849), 2), s).map((m) => m.type)).toEqual(['gap', 'trade']);
  });

  it('ticker, heartbeat, status, subscribe ack and a failed subscribe', () => {
    const s = newKrakenState();
    expect(decodeKraken(ev('{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":26000.1,"bid_qty":1.5,"ask":26000.2,"ask_qty":0.25,"last":26000.1}]}'), s))
      .toMatchObject([{ type: 'quote', symbol: 'BTC/USD', bid: 26000.1, bidSize: 1.5, ask: 26000.2, askSize: 0.25 }]);
    expect(decodeKraken(ev('{"channel":"heartbeat"}'), s)).toMatchObject([{ status: 'heartbeat' }]);
    expect(decodeKraken(ev('{"channel":"status","type":"update","data":[{"system":"online","api_version":"v2","connection_id":12393906104898154338,"version":"2.0.0"}]}'), s)).toMatchObject([{ status: 'system' }]);
    expect(decodeKraken(ev('{"method":"subscribe","result":{"channel":"trade","symbol":"BTC/USD","snapshot":true},"success":true,"time_in":"2023-09-25T09:04:31.742599Z","time_out":"2023-09-25T09:04:31.742648Z","req_id":1}'), s)).toMatchObject([{ status: 'subscribed' }]);
    expect(decodeKraken(ev('{"error":"Currency pair not supported","method":"subscribe","success":false,"req_id":2}'), s)).toMatchObject([{ status: 'error', detail: 'Currency pair not supported' }]);
  });

  it('a malformed frame is a decode_error, never a crash', () => {
    expect(decodeKraken(ev('[1,[["x","1","1618678150.8","s","m",""]],"trade","XBT/USD"]'), newKrakenState())).toMatchObject([{ type: 'decode_error' }]);
    expect(decodeKraken(ev('[1,[["1","1","1618678150.8"'), newKrakenState())).toMatchObject([{ type: 'decode_error', reason: 'not JSON' }]);
  });
});

describe.skipIf(!REAL)('Bitstamp adapter, frames of the real recordings', () => {
  const y2022 = REAL ? [...eventsOf('bitstamp', 'bitstamp/cryptofeed/BITSTAMP.ws.1.0'), ...eventsOf('bitstamp', 'bitstamp/cryptofeed/BITSTAMP.http.0.0')] : [];
  const y2021 = REAL ? eventsOf('bitstamp', 'bitstamp/cryptofeed/BITSTAMP-b88f8b.0') : [];

  it('a 2022 trade (compact): exact *_str decimals, type 0 = taker buy, µs time, the global id', () => {
    const ev = first(y2022, /"id":216000477,/);
    expect(decodeBitstamp(ev, newBitstampState())).toMatchObject([{ type: 'trade', symbol: 'ethusd', tradeId: 216000477n, price: 3805.44, size: 0.0792, side: 'buy', tsUs: 1_641_343_699_596_000 }]);
    expect(decodeBitstamp(first(y2022, /"id":216000484,/), newBitstampState())).toMatchObject([{ side: 'sell', size: 0.931 }]);
  });

  it('a 2021 trade (sorted keys, ", " spacing) reads the same way', () => {
    expect(decodeBitstamp(first(y2021, /"id": 161009669,/), newBitstampState())).toMatchObject([{ type: 'trade', symbol: 'linketh', tradeId: 161009669n, price: 0.01495224, size: 7.14844933, side: 'sell', tsUs: 1_617_654_353_577_000 }]);
  });

  it('subscription acks, diff_order_book data and REST order_book snapshots', () => {
    const s = newBitstampState();
    expect(decodeBitstamp(first(y2022, /bts:subscription_succeeded/), s)).toMatchObject([{ type: 'status', status: 'subscribed' }]);
    expect(decodeBitstamp(first(y2022, /^\{"data":.*"channel":"diff_order_book_/), s)).toEqual([]);
    expect(decodeBitstamp(first(y2022, /"bids": \[\[/), s)).toEqual([]);
    expect(s.counts.recognised).toEqual({ diff_order_book: 1, 'rest:order_book': 1 });
  });

  it('decodes both recordings with no error and no unknown message; ids never make gaps', () => {
    for (const evs of [y2021, y2022]) {
      const s = newBitstampState();
      const out = evs.flatMap((ev) => decodeBitstamp(ev, s));
      expect(out.filter((m) => m.type === 'decode_error' || m.type === 'gap')).toEqual([]);
      expect(s.counts.unknown).toEqual({});
    }
    expect(canonicalAsset('bitstamp', 'ethusd', { usdtAsUsd: true, mapping: {} })).toBe('ETH/USD');
  });
});

describe('Bitstamp adapter, shapes no recording holds (documentation)', () => {
  const ev = (kind: 'frame' | 'rest', payload: string, meta = ''): LogEvent => ({ session: 's', ingestSeq: 0, recvNs: 1_641_343_760_000_000_000n, exchange: 'bitstamp', conn: 'c', kind, payload, meta });
  const live = '{"data":{"id":216000477,"timestamp":"1641343699","amount":0.0792,"amount_str":"0.07920000","price":3805.44,"price_str":"3805.44","type":0,"microtimestamp":"1641343699596000","buy_order_id":1443875737346049,"sell_order_id":1443875731320832},"channel":"live_trades_ethusd","event":"trade"}';

  it('a transactions backfill that overlaps the live feed takes only the trades not seen, oldest first', () => {
    const s = newBitstampState();
    expect(decodeBitstamp(ev('frame', live), s)).toHaveLength(1);
    const body = '[{"date":"1641343710","tid":"216000490","price":"3803.00","amount":"0.50000000","type":"1"},{"date":"1641343699","tid":"216000477","price":"3805.44","amount":"0.07920000","type":"0"},{"date":"1641343690","tid":"216000470","price":"3806.00","amount":"1.00000000","type":"0"}]';
    const out = decodeBitstamp(ev('rest', body, 'https://www.bitstamp.net/api/v2/transactions/ethusd/?time=minute'), s);
    expect(out.map((m) => (m.type === 'trade' ? [m.tradeId, m.side, m.tsUs] : m.type))).toEqual([[216000470n, 'buy', 1_641_343_690_000_000], [216000490n, 'sell', 1_641_343_710_000_000]]);
    expect(s.counts.duplicates).toBe(1);
  });

  it('after a disconnect, a pair\'s first trade past the next id opens a gap its next transactions page closes; no disconnect, no gap', () => {
    const trade = (id: number): string => live.replace('"id":216000477', `"id":${id}`);
    const s = newBitstampState();
    const kinds = (out: ReturnType<typeof decodeBitstamp>): unknown[] => out.map((m) => (m.type === 'gap' ? ['gap', m.symbol, m.fromId, m.toId, m.reason] : m.type));
    expect(kinds(decodeBitstamp(ev('frame', trade(100)), s))).toEqual(['trade']);
    // Ids are global across pairs: a jump on one connection says nothing.
    expect(kinds(decodeBitstamp(ev('frame', trade(105)), s))).toEqual(['trade']);
    expect(decodeBitstamp({ ...ev('frame', ''), kind: 'close', meta: '1006' }, s)).toEqual([]);
    // The next id after the disconnect: nothing was missed.
    expect(kinds(decodeBitstamp(ev('frame', trade(106)), s))).toEqual(['trade']);
    decodeBitstamp({ ...ev('frame', ''), kind: 'close', meta: '1006' }, s);
    expect(kinds(decodeBitstamp(ev('frame', trade(110)), s))).toEqual([['gap', 'ethusd', 107n, 109n, 'reconnect'], 'trade']);
    expect(kinds(decodeBitstamp(ev('frame', trade(111)), s)), 'one gap per disconnect').toEqual(['trade']);
    const body = '[{"date":"1641343699","tid":"111","price":"3805.44","amount":"0.07920000","type":"0"},{"date":"1641343699","tid":"108","price":"3805.44","amount":"0.10000000","type":"1"}]';
    expect(kinds(decodeBitstamp(ev('rest', body, 'https://www.bitstamp.net/api/v2/transactions/ethusd/?time=day'), s))).toEqual(['trade', 'gap_filled']);
    expect(kinds(decodeBitstamp(ev('rest', body, 'https://www.bitstamp.net/api/v2/transactions/ethusd/?time=day'), s)), 'closed once').toEqual([]);
  });

  it('a transactions page before a pair\'s first live trade (a restart\'s backfill) is its last before a disconnect: trades made after it are a gap', () => {
    const trade = (id: number): string => live.replace('"id":216000477', `"id":${id}`);
    const kinds = (out: ReturnType<typeof decodeBitstamp>): unknown[] => out.map((m) => (m.type === 'gap' ? ['gap', m.symbol, m.fromId, m.toId, m.reason] : m.type));
    const body = '[{"date":"1641343699","tid":"120","price":"3805.44","amount":"0.07920000","type":"0"},{"date":"1641343690","tid":"118","price":"3805.44","amount":"0.10000000","type":"1"}]';
    const url = 'https://www.bitstamp.net/api/v2/transactions/ethusd/?time=minute';
    const s = newBitstampState();
    expect(kinds(decodeBitstamp(ev('rest', body, url), s))).toEqual(['trade', 'trade']);
    expect(kinds(decodeBitstamp(ev('frame', trade(124)), s))).toEqual([['gap', 'ethusd', 121n, 123n, 'reconnect'], 'trade']);
    expect(kinds(decodeBitstamp(ev('rest', body.replace('"tid":"118"', '"tid":"122"'), url.replace('minute', 'day')), s)), 'the next page closes it').toEqual(['trade', 'gap_filled']);
    // The live feed going on right after the page: nothing was missed.
    const t = newBitstampState();
    decodeBitstamp(ev('rest', body, url), t);
    expect(kinds(decodeBitstamp(ev('frame', trade(121)), t))).toEqual(['trade']);
    // A page after live trades (a reconnect's refill) doubts nothing.
    expect(kinds(decodeBitstamp(ev('rest', body.replace('"tid":"120"', '"tid":"125"'), url), t))).toEqual(['trade']);
    expect(kinds(decodeBitstamp(ev('frame', trade(130)), t))).toEqual(['trade']);
  });

  it('order_book top: its best levels are the quote; request_reconnect is a shutdown notice', () => {
    const s = newBitstampState();
    expect(decodeBitstamp(ev('frame', '{"data":{"timestamp":"1641343699","microtimestamp":"1641343699596123","bids":[["3802.90","0.60000000"],["3802.89","3.2"]],"asks":[["3803.50","1.25000000"]]},"channel":"order_book_ethusd","event":"data"}'), s))
      .toMatchObject([{ type: 'quote', symbol: 'ethusd', bid: 3802.9, bidSize: 0.6, ask: 3803.5, askSize: 1.25, tsUs: 1_641_343_699_596_123 }]);
    expect(decodeBitstamp(ev('frame', '{"event":"bts:request_reconnect","channel":"","data":""}'), s)).toMatchObject([{ status: 'shutdown' }]);
  });
});
