/**
 * What the decoders refuse and what they keep quiet about (issue 10, items 5 and 6):
 * - frames that must emit nothing, only a counter (real frames from the fixtures);
 * - message types named like Object.prototype members, which must count like any other;
 * - every limit of the table in src/exchanges/common.ts, each with a value it refuses,
 *   on both the fast path and the JSON.parse path.
 */
import { describe, expect, it } from 'vitest';
import { decodeBinance, decodeBinanceParsed, newBinanceState } from '../../src/exchanges/binance/decode.ts';
import { decodeCoinbase, decodeCoinbaseParsed, newCoinbaseState } from '../../src/exchanges/coinbase/decode.ts';
import { canonicalAsset, isSupportedExchange, makeDecoder } from '../../src/exchanges/registry.ts';
import type { LogEvent } from '../../src/log/event.ts';
import type { MarketEvent } from '../../src/market/events.ts';

let seq = 0;
/** 2024-08-09T00:00:00Z, the hftbacktest session's night. */
const RECV = 1_723_161_600_000_000_000n;
const ev = (exchange: string, payload: string, recvNs = RECV, kind: LogEvent['kind'] = 'frame', meta = ''): LogEvent =>
  ({ session: 't', ingestSeq: seq++, recvNs, exchange, conn: 'c', kind, payload, meta });

const DAY_MS = 86_400_000;
const T_MS = 1_723_161_600_000;

/** A Binance trade (the post-2024 shape) with fields overridden; `T` in ms. */
function binanceTrade(o: { s?: string; t?: string; p?: string; q?: string; T?: string } = {}): string {
  return `{"stream":"btcusdt@trade","data":{"e":"trade","E":${T_MS},"s":${o.s ?? '"BTCUSDT"'},"t":${o.t ?? '3735683259'},"p":${o.p ?? '"61837.63000000"'},`
    + `"q":${o.q ?? '"0.02000000"'},"T":${o.T ?? String(T_MS)},"m":true,"M":true}}`;
}

function coinbaseMatch(o: { product_id?: string; trade_id?: string; price?: string; size?: string; time?: string } = {}): string {
  return `{"type":"match","trade_id":${o.trade_id ?? '280232'},"maker_order_id":"a","taker_order_id":"b","side":"sell","size":${o.size ?? '"985"'},`
    + `"price":${o.price ?? '"0.00001305"'},"product_id":${o.product_id ?? '"SKL-BTC"'},"sequence":177100030,"time":${o.time ?? '"2024-08-09T00:00:00.089723Z"'}}`;
}

/** Decodes by both paths from fresh states; asserts they agree and returns the result. */
function both(exchange: 'binance' | 'coinbase', ...frames: LogEvent[]): MarketEvent[][] {
  const [fast, exact, fs, es] = exchange === 'binance'
    ? [decodeBinance, decodeBinanceParsed, newBinanceState(), newBinanceState()] as const
    : [decodeCoinbase, decodeCoinbaseParsed, newCoinbaseState(), newCoinbaseState()] as const;
  return frames.map((f) => {
    const a = (fast as (e: LogEvent, s: unknown) => MarketEvent[])(f, fs);
    const b = (exact as (e: LogEvent, s: unknown) => MarketEvent[])(f, es);
    expect(a, 'the fast path and the JSON.parse path agree').toStrictEqual(b);
    return a;
  });
}

const refused = (out: MarketEvent[]): string => {
  expect(out, 'exactly one decode_error and nothing for the engine').toHaveLength(1);
  expect(out[0]!.type).toBe('decode_error');
  return (out[0] as { reason: string }).reason;
};

describe('frames that must emit nothing (counted only)', () => {
  it.each([
    ['binance', '{"stream":"blzeth@depth@100ms","data":{"e":"depthUpdate","E":1633998514469,"s":"BLZETH","U":281916627,"u":281916627,"b":[["0.00006421","0.00000000"]],"a":[]}}', 'recognised', 'depthUpdate'],
    ['binance', '{"stream":"nknusdt@kline_1m","data":{"e":"kline","E":1633998523963,"s":"NKNUSDT","k":{"t":1633998480000,"T":1633998539999,"s":"NKNUSDT","i":"1m","f":19862761,"L":19862790,"o":"0.35270000","c":"0.35280000","h":"0.35280000","l":"0.35220000","v":"25877.00000000","n":30,"x":false,"q":"9116.04600000","V":"58.00000000","Q":"20.46240000","B":"0"}}}', 'recognised', 'kline'],
    ['binance', '{"e":"somethingNew","E":1}', 'unknown', 'somethingNew'],
    ['binance', '{"E":1,"s":"BTCUSDT"}', 'unknown', 'no-e'],
    ['coinbase', '{"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"]],"time":"2021-04-17T16:43:37.075687Z"}', 'recognised', 'l2update'],
    ['coinbase', '{"type":"snapshot","product_id":"SKL-GBP","asks":[["0.5762","2865.9"]],"bids":[["0.5700","10.0"]]}', 'recognised', 'snapshot'],
    ['coinbase', '{"type":"brand_new"}', 'unknown', 'brand_new'],
    ['coinbase', '{"product_id":"BTC-USD"}', 'unknown', 'no-type'],
  ] as const)('%s %s', (exchange, payload, counter, key) => {
    const s = exchange === 'binance' ? newBinanceState() : newCoinbaseState();
    const fast = exchange === 'binance' ? decodeBinance(ev(exchange, payload), s as never) : decodeCoinbase(ev(exchange, payload), s as never);
    expect(fast).toEqual([]);
    expect(both(exchange, ev(exchange, payload))).toEqual([[]]);
    expect(JSON.stringify(s.counts)).toBe(JSON.stringify({ recognised: counter === 'recognised' ? { [key]: 1 } : {}, unknown: counter === 'unknown' ? { [key]: 1 } : {}, duplicates: 0, idRuns: 0, errors: 0 }));
  });
});

describe('message types named like Object.prototype members (issue 10, item 5)', () => {
  const NAMES = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

  it.each(NAMES)('Binance e=%s is counted as unknown, once per frame, and the counters stay numbers', (name) => {
    const s = newBinanceState();
    for (let i = 0; i < 3; i++) expect(decodeBinance(ev('binance', `{"e":"${name}","E":1}`), s)).toEqual([]);
    decodeBinance(ev('binance', `{"stream":"x@y","data":{"e":"${name}","E":1}}`), s);
    expect(Object.keys(s.counts.unknown)).toEqual([name]);
    expect(s.counts.unknown[name], 'a number, not "function toString() {…}1"').toBe(4);
    const total = Object.values(s.counts.unknown).reduce((a, b) => a + b, 0);
    expect(Number.isFinite(total), 'what the recorder hands prom-client').toBe(true);
    expect(JSON.parse(JSON.stringify(s.counts)), 'manifest.json keeps the key').toEqual(JSON.parse(`{"recognised":{},"unknown":{"${name}":4},"duplicates":0,"idRuns":0,"errors":0}`));
  });

  it.each(NAMES)('Coinbase type=%s is counted as unknown', (name) => {
    const s = newCoinbaseState();
    decodeCoinbase(ev('coinbase', `{"type":"${name}"}`), s);
    decodeCoinbase(ev('coinbase', `{"type":"${name}","x":[1]}`), s);
    expect(Object.keys(s.counts.unknown)).toEqual([name]);
    expect(s.counts.unknown[name]).toBe(2);
    expect(Object.keys(s.counts.recognised)).toEqual([]);
  });

  it('a symbol named like a prototype member trades like any other', () => {
    const out = both('binance', ev('binance', binanceTrade({ s: '"constructor"' })), ev('binance', binanceTrade({ s: '"constructor"', t: '3735683260' })));
    expect(out.flat().map((m) => m.type)).toEqual(['trade', 'trade']);
  });

  it('the registry knows no exchange named like a prototype member', () => {
    for (const name of NAMES) {
      expect(isSupportedExchange(name), name).toBe(false);
      expect(makeDecoder(name), name).toBeUndefined();
      expect(canonicalAsset(name, 'BTCUSDT', { usdtAsUsd: true, mapping: {} }), name).toBeUndefined();
    }
  });
});

describe('limits (the table in src/exchanges/common.ts)', () => {
  it('takes the values at the edges of every limit', () => {
    const out = both('binance',
      ev('binance', binanceTrade({ p: '"1e15"', q: '"0.00000001"', s: `"${'X'.repeat(64)}"`, t: '9223372036854775807' })),
      ev('binance', binanceTrade({ t: '0', s: '"Y"' })));
    expect(out.map((o) => o.map((m) => m.type))).toEqual([['trade'], ['trade']]);
    expect(out[0]![0]).toMatchObject({ price: 1e15, size: 1e-8, tradeId: 9223372036854775807n });
  });

  it.each([
    ['price 0', { p: '"0.00000000"' }, /field p is not a price/],
    ['price < 0', { p: '"-61837.63"' }, /field p is not a price/],
    ['price > 1e15', { p: '"1000000000000001"' }, /field p is not a price/],
    ['price not finite (a JSON number too big for a double)', { p: '1e400' }, /field p is not a number/],
    ['price not finite (a string)', { p: '"Infinity"' }, /field p is not a number/],
    ['size 0', { q: '"0"' }, /field q is not a size/],
    ['size < 0', { q: '"-1"' }, /field q is not a size/],
    ['size > 1e15', { q: '"2e15"' }, /field q is not a size/],
    ['trade id < 0', { t: '-1' }, /field t is not a trade id/],
    ['trade id ≥ 2^63', { t: '9223372036854775808' }, /field t is not a trade id the engine can hold/],
    ['empty symbol', { s: '""' }, /field s is not a string/],
    ['symbol of 65 characters', { s: `"${'X'.repeat(65)}"` }, /field s is not a symbol: longer than 64/],
    ['symbol with a control character (escaped)', { s: '"BTC\\u0000USDT"' }, /field s is not a symbol: it holds a control character/],
    ['symbol with a control character (raw DEL)', { s: '"BTC\u007fUSDT"' }, /field s is not a symbol: it holds a control character/],
    ['symbol with a C1 control character', { s: '"BTC\u0085USDT"' }, /control character/],
    ['exchange time before 2010', { T: '1' }, /field T is not an exchange time/],
    ['exchange time after 2100 (µs read as ms would be)', { T: '4102444800000' }, /field T is not an exchange time/],
  ])('Binance refuses a trade with %s', (_, o, reason) => {
    expect(refused(both('binance', ev('binance', binanceTrade(o)))[0]!)).toMatch(reason);
  });

  it.each([
    ['price 0', { price: '"0"' }, /field price is not a price/],
    ['size > 1e15', { size: '"1e16"' }, /field size is not a size/],
    ['trade id ≥ 2^63', { trade_id: '18446744073709551616' }, /field trade_id is not a trade id/],
    ['product id of 65 characters', { product_id: `"${'B'.repeat(65)}"` }, /field product_id is not a symbol/],
    ['product id with a newline', { product_id: '"BTC\\nUSD"' }, /control character/],
    ['time in 1970', { time: '"1970-01-01T00:00:00Z"' }, /field time is not an exchange time/],
  ])('Coinbase refuses a match with %s', (_, o, reason) => {
    expect(refused(both('coinbase', ev('coinbase', coinbaseMatch(o)))[0]!)).toMatch(reason);
  });

  it('Binance refuses a bookTicker with a bid of 0 or a negative size, and takes a size of 0', () => {
    const bt = (b: string, B: string) => `{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"${b}","B":"${B}","a":"2","A":"1"}}`;
    expect(refused(both('binance', ev('binance', bt('0', '1')))[0]!)).toMatch(/field b is not a price/);
    expect(refused(both('binance', ev('binance', bt('1', '-1')))[0]!)).toMatch(/field B is not a size/);
    expect(both('binance', ev('binance', bt('1', '0')))[0]).toMatchObject([{ type: 'quote', bidSize: 0 }]);
  });

  it('Coinbase refuses a ticker with an ask over 1e15', () => {
    const t = '{"type":"ticker","sequence":1,"product_id":"BTC-USD","price":"1","best_bid":"1","best_ask":"1e16","time":"2024-08-09T00:00:00Z"}';
    expect(refused(both('coinbase', ev('coinbase', t))[0]!)).toMatch(/field best_ask is not a price/);
  });

  it('Coinbase refuses a heartbeat whose last_trade_id is ≥ 2^63', () => {
    const hb = '{"type":"heartbeat","sequence":90,"last_trade_id":9223372036854775808,"product_id":"BTC-USD","time":"2024-08-09T00:00:00Z"}';
    expect(refused(both('coinbase', ev('coinbase', hb))[0]!)).toMatch(/field last_trade_id is not a trade id/);
  });

  it('a backfill whose URL names no plausible symbol, or a row over the limits, is refused whole and moves no state', () => {
    const s = newBinanceState();
    const url = (sym: string) => `https://api.binance.com/api/v3/historicalTrades?symbol=${sym}&fromId=1`;
    const row = (id: number, price: string) => `{"id":${id},"price":"${price}","qty":"1","quoteQty":"1","time":${T_MS},"isBuyerMaker":true,"isBestMatch":true}`;
    expect(refused(decodeBinance(ev('binance', `[${row(1, '1')}]`, RECV, 'rest', url('X'.repeat(65))), s))).toMatch(/field symbol is not a symbol/);
    expect(refused(decodeBinance(ev('binance', `[${row(1, '1')},${row(2, '0')}]`, RECV, 'rest', url('BTCUSDT')), s))).toMatch(/field price is not a price/);
    // Row 1 was refused with its body: it is new, not a duplicate.
    expect(decodeBinance(ev('binance', `[${row(1, '1')}]`, RECV, 'rest', url('BTCUSDT')), s).map((m) => m.type)).toEqual(['trade']);
  });
});

describe('exchange time against receive time', () => {
  const at = (T: number, recvNs: bigint) => ev('binance', binanceTrade({ T: String(T), t: String(seq) }), recvNs);

  it('takes the real recording\'s clocks: local time 1.27 s behind the exchange, and ahead by network delay', () => {
    const out = both('binance', at(T_MS, RECV - 1_272_000_000n), at(T_MS + 1000, RECV + 1_000_000_000n + 214_000_000n));
    expect(out.map((o) => o.at(-1)!.type)).toEqual(['trade', 'trade']);
  });

  it('takes a recording re-served years later (the replay façade), whose clock offset is steady', () => {
    const years = 2n * 365n * 86_400_000_000_000n;
    const out = both('binance', at(T_MS, RECV + years), at(T_MS + 5_000, RECV + years + 5_000_000_000n));
    expect(out.map((o) => o.at(-1)!.type)).toEqual(['trade', 'trade']);
  });

  it('refuses a time more than a day ahead of, or behind, the symbol\'s clock; the clock stays where it was', () => {
    const out = both('binance',
      at(T_MS, RECV),
      at(T_MS + DAY_MS + 1_000, RECV),
      at(T_MS - DAY_MS - 1_000, RECV),
      at(T_MS + 1_000, RECV + 1_000_000_000n));
    expect(refused(out[1]!)).toMatch(/field T is more than a day off this symbol's clock/);
    expect(refused(out[2]!)).toMatch(/more than a day off/);
    expect(out[3]!.map((m) => m.type), 'the next good trade is taken (a gap for the two refused ids)').toEqual(['gap', 'trade']);
  });

  it('judges each symbol by its own clock', () => {
    const eth = (T: number, recvNs: bigint) => ev('binance', binanceTrade({ s: '"ETHUSDT"', T: String(T) }), recvNs);
    const out = both('binance', at(T_MS, RECV), eth(T_MS + 3 * DAY_MS, RECV));
    expect(out.map((o) => o.at(-1)!.type)).toEqual(['trade', 'trade']);
  });

  it('lets a backfilled trade lag without limit, never lead by more than a day', () => {
    const s = newCoinbaseState();
    const meta = 'https://api.exchange.coinbase.com/products/BTC-USD/trades?after=12';
    const row = (id: number, time: string) => `{"time":"${time}","trade_id":${id},"price":"1","size":"1","side":"buy"}`;
    decodeCoinbase(ev('coinbase', coinbaseMatch({ product_id: '"BTC-USD"', trade_id: '10' })), s);
    expect(decodeCoinbase(ev('coinbase', coinbaseMatch({ product_id: '"BTC-USD"', trade_id: '13' })), s).map((m) => m.type)).toEqual(['gap', 'trade']);
    const later = RECV + 30n * 86_400_000_000_000n;
    expect(decodeCoinbase(ev('coinbase', `[${row(11, '2024-08-09T00:00:00.1Z')}]`, later, 'rest', meta), s).map((m) => m.type)).toEqual(['trade']);
    expect(refused(decodeCoinbase(ev('coinbase', `[${row(12, '2024-08-12T00:00:00Z')}]`, RECV, 'rest', meta), s))).toMatch(/more than a day off/);
  });
});
