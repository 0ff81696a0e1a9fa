/**
 * Adapter edge cases on single frames: both Binance trade shapes, acks, errors,
 * serverShutdown, raw streams, malformed and unknown frames, gaps; Coinbase heartbeat gaps
 * and errors. Real frames where a real one exists (quoted from the fixtures), doc examples
 * where none was ever recorded (fixtures README, "Known gaps").
 */
import { describe, expect, it } from 'vitest';
import { decodeBinance, newBinanceState } from '../../src/exchanges/binance/decode.ts';
import { exactId } from '../../src/exchanges/common.ts';
import { decodeCoinbase, newCoinbaseState } from '../../src/exchanges/coinbase/decode.ts';
import type { LogEvent } from '../../src/log/event.ts';

let seq = 0;
const ev = (exchange: string, payload: string, kind: LogEvent['kind'] = 'frame'): LogEvent =>
  ({ session: 't', ingestSeq: seq++, recvNs: 1_700_000_000_000_000_000n, exchange, conn: 'c', kind, payload, meta: '' });

describe('Binance adapter', () => {
  it('reads the old trade shape (with b/a) and the new one alike, raw or combined', () => {
    const s = newBinanceState();
    const old = decodeBinance(ev('binance', '{"e":"trade","E":1617566591046,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","b":88,"a":50,"T":1617566591045,"m":false,"M":true}'), s);
    const neu = decodeBinance(ev('binance', '{"stream":"bnbbtc@trade","data":{"e":"trade","E":1617566591047,"s":"BNBBTC","t":12346,"p":"0.002","q":"1","T":1617566591046,"m":true,"M":true}}'), s);
    expect(old).toMatchObject([{ type: 'trade', tradeId: 12345n, side: 'buy', price: 0.001, size: 100, tsUs: 1617566591045000 }]);
    expect(neu).toMatchObject([{ type: 'trade', tradeId: 12346n, side: 'sell' }]);
  });

  it('reads timeUnit=MICROSECOND times as µs', () => {
    const out = decodeBinance(ev('binance', '{"e":"trade","E":1735000000000001,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1735000000000000,"m":true,"M":true}'), newBinanceState());
    expect(out[0]).toMatchObject({ tsUs: 1735000000000000 });
  });

  it('turns acks, errors and serverShutdown into status events', () => {
    const s = newBinanceState();
    expect(decodeBinance(ev('binance', '{"result":null,"id":1}'), s)).toMatchObject([{ type: 'status', status: 'subscribed' }]);
    expect(decodeBinance(ev('binance', '{"code":2,"msg":"Invalid request: unknown variant"}'), s)).toMatchObject([{ type: 'status', status: 'error', detail: 'Invalid request: unknown variant' }]);
    expect(decodeBinance(ev('binance', '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1735000000000}}'), s)).toMatchObject([{ type: 'status', status: 'shutdown' }]);
  });

  it('counts kline and depth, counts unknown shapes, and never throws on garbage', () => {
    const s = newBinanceState();
    expect(decodeBinance(ev('binance', '{"e":"kline","E":1,"s":"BTCUSDT","k":{}}'), s)).toEqual([]);
    expect(decodeBinance(ev('binance', '{"e":"somethingNew","E":1}'), s)).toEqual([]);
    expect(s.counts).toMatchObject({ recognised: { kline: 1 }, unknown: { somethingNew: 1 } });
    for (const bad of ['', 'not json', '[1,2]', '{"e":"trade","s":"X","t":1,"p":"abc","q":"1","T":1723161255342,"m":true}', '{"e":"trade","s":"X","t":1.5,"p":"1","q":"1","T":1723161255342,"m":true}', '{"stream":"x","data":7}']) {
      const out = decodeBinance(ev('binance', bad), s);
      expect(out, bad).toMatchObject([{ type: 'decode_error', payload: bad }]);
    }
  });

  it('reports a trade-id break as a gap with the missing range, and drops repeats as duplicates', () => {
    const s = newBinanceState();
    const t = (id: number) => ev('binance', `{"e":"trade","E":1,"s":"BTCUSDT","t":${id},"p":"1","q":"1","T":1723161255342,"m":true,"M":true}`);
    decodeBinance(t(10), s);
    decodeBinance(t(11), s);
    const out = decodeBinance(t(15), s);
    expect(out.map((m) => m.type)).toEqual(['gap', 'trade']);
    expect(out[0]).toMatchObject({ fromId: 12n, toId: 14n, symbol: 'BTCUSDT' });
    expect(decodeBinance(t(11), s)).toEqual([]);
    expect(s.counts.duplicates).toBe(1);
  });

  it('uses only the first trade stream of a symbol for candles (trade and aggTrade carry the same fills)', () => {
    const s = newBinanceState();
    decodeBinance(ev('binance', '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1723161255342,"m":true,"M":true}'), s);
    expect(decodeBinance(ev('binance', '{"e":"aggTrade","E":1,"s":"BTCUSDT","a":7,"p":"1","q":"1","f":1,"l":1,"T":1723161255342,"m":true,"M":true}'), s)).toEqual([]);
  });
});

describe('Coinbase adapter', () => {
  it('turns match.side (maker) into the taker side', () => {
    const m = '{"type":"match","trade_id":280232,"maker_order_id":"a","taker_order_id":"b","side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC","sequence":177100030,"time":"2021-04-17T16:43:37.089723Z"}';
    expect(decodeCoinbase(ev('coinbase', m), newCoinbaseState())).toMatchObject([{ type: 'trade', side: 'buy', tradeId: 280232n, tsUs: 1618677817089723 }]);
  });

  it('finds a gap from heartbeat last_trade_id and does not report it twice', () => {
    const s = newCoinbaseState();
    const match = (id: number) => `{"type":"match","trade_id":${id},"side":"buy","size":"1","price":"1","product_id":"BTC-USD","sequence":1,"time":"2021-04-17T16:43:37.089723Z"}`;
    decodeCoinbase(ev('coinbase', match(20)), s);
    const hb = decodeCoinbase(ev('coinbase', '{"type":"heartbeat","sequence":90,"last_trade_id":23,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"}'), s);
    expect(hb.map((m) => m.type)).toEqual(['status', 'gap']);
    expect(hb[1]).toMatchObject({ fromId: 21n, toId: 23n, reason: 'heartbeat' });
    expect(decodeCoinbase(ev('coinbase', match(24)), s).map((m) => m.type)).toEqual(['trade']);
  });

  it('reads errors, counts unknown types, and survives malformed frames', () => {
    const s = newCoinbaseState();
    expect(decodeCoinbase(ev('coinbase', '{"message":"Failed to subscribe","reason":"No channels provided","type":"error"}'), s))
      .toMatchObject([{ type: 'status', status: 'error', detail: 'Failed to subscribe: No channels provided' }]);
    expect(decodeCoinbase(ev('coinbase', '{"type":"brand_new"}'), s)).toEqual([]);
    expect(s.counts.unknown).toEqual({ brand_new: 1 });
    expect(decodeCoinbase(ev('coinbase', '{"type":"match","trade_id":1,"side":"up","size":"1","price":"1","product_id":"X","time":"2021-04-17T16:43:37Z"}'), s))
      .toMatchObject([{ type: 'decode_error' }]);
    expect(decodeCoinbase(ev('coinbase', '{"type":"ticker","product_id":"X"}'), s)).toMatchObject([{ type: 'decode_error' }]);
  });
});

describe('exact ids', () => {
  it('keeps integers above 2^53 exact by reading the frame text', () => {
    const payload = '{"connectionID":17843232920108168701,"t":9007199254740993}';
    const parsed = JSON.parse(payload) as { t: number };
    expect(exactId(parsed.t, payload, 't')).toBe(9007199254740993n);
  });
});
