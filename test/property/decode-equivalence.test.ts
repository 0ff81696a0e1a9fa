/**
 * The fast decoders (scanning the frame text) against the JSON.parse decoders they replace,
 * which stay as the oracle: for every frame, real or mutated, both give deep-equal market
 * events and counters (recognised / unknown / duplicates / errors), frame after frame from
 * the same starting state. Mutations: key order, whitespace, escapes, truncation, wrong
 * types, huge and odd numbers, missing and duplicated keys, unicode, control characters,
 * prototype names, times far from the receive time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBinance, decodeBinanceParsed, newBinanceState, type BinanceState } from '../../src/exchanges/binance/decode.ts';
import { scanBinance } from '../../src/exchanges/binance/scan.ts';
import { decodeCoinbase, decodeCoinbaseParsed, newCoinbaseState, type CoinbaseState } from '../../src/exchanges/coinbase/decode.ts';
import { scanCoinbase } from '../../src/exchanges/coinbase/scan.ts';
import { decimalAt, isoUsAt } from '../../src/exchanges/scan-values.ts';
import { parseCryptofeedLine, parseHftbacktestLine } from '../../src/importers/formats.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { isoToNs } from '../../src/log/time.ts';
import type { DecodeCounts, MarketEvent } from '../../src/market/events.ts';
import { REAL, readLines, real } from '../helpers.ts';

interface Venue<S> {
  readonly name: string;
  readonly fresh: () => S;
  readonly fast: (ev: LogEvent, s: S) => MarketEvent[];
  readonly exact: (ev: LogEvent, s: S) => MarketEvent[];
  readonly counts: (s: S) => DecodeCounts;
}

const BINANCE: Venue<BinanceState> = { name: 'binance', fresh: newBinanceState, fast: decodeBinance, exact: decodeBinanceParsed, counts: (s) => s.counts };
const COINBASE: Venue<CoinbaseState> = { name: 'coinbase', fresh: newCoinbaseState, fast: decodeCoinbase, exact: decodeCoinbaseParsed, counts: (s) => s.counts };

/** Doc and hand-written frames beside the real ones: shapes no recording holds (fixtures README, "Known gaps"). */
const T0 = 1_723_161_255_000_000_000n;
const SYNTHETIC: Record<string, [bigint, string][]> = {
  binance: [
    [T0, '{"result":null,"id":1}'],
    [T0, '{"code":2,"msg":"Invalid request: unknown variant"}'],
    [T0, '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1723161255000}}'],
    [T0, '{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","b":88,"a":50,"T":1723161255342,"m":true,"M":true}'],
    [T0, '{"e":"bookTicker","u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000","T":1723161255342,"E":1723161255343}'],
    [T0, '{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1723161255343,"s":"BTCUSDT","k":{"t":1723161240000,"i":"1m","o":"1","c":"2","x":false}}}'],
  ],
  coinbase: [
    [1_618_677_817_000_000_000n, '{"type":"heartbeat","sequence":90,"last_trade_id":881620,"product_id":"BAND-GBP","time":"2021-04-17T16:43:37.464459Z"}'],
    [1_618_677_817_000_000_000n, '{"message":"Failed to subscribe","reason":"No channels provided","type":"error"}'],
    [1_618_677_817_000_000_000n, '{"type":"ticker","sequence":1,"product_id":"BTC-USD","price":"1","best_bid":"1.5","best_bid_size":"0.1","best_ask":"1.6","best_ask_size":"0.2","time":"2021-04-17T16:43:37Z"}'],
    [1_618_677_817_000_000_000n, '{"type":"status","products":[],"currencies":[]}'],
  ],
};

function hft(file: string): [bigint, string][] {
  return readLines(real(file)).map((line) => {
    const r = parseHftbacktestLine(line);
    return [r.recvNs, r.payload];
  });
}

function cryptofeed(file: string): [bigint, string][] {
  return readLines(real(file)).flatMap((line) => {
    const r = parseCryptofeedLine(line);
    return r && r.kind === 'frame' ? [[r.recvNs, r.payload] as [bigint, string]] : [];
  });
}

const FRAMES: Record<string, [bigint, string][]> = REAL
  ? {
    binance: [
      ...hft('binance/hftbacktest/btcusdt_20240808.gz'),
      ...cryptofeed('binance/cryptofeed/BINANCE-ee25be.0'),
      ...cryptofeed('binance/cryptofeed/BINANCE-b38f7c.0'),
      ...cryptofeed('binance/cryptofeed/BINANCE.ws.1.0'),
      ...SYNTHETIC.binance!,
    ],
    coinbase: [...cryptofeed('coinbase/cryptofeed/COINBASE.ws.28.0'), ...SYNTHETIC.coinbase!],
  }
  : SYNTHETIC;

let seq = 0;
const logEvent = (exchange: string, recvNs: bigint, payload: string): LogEvent =>
  ({ session: 'p', ingestSeq: seq++, recvNs, exchange, conn: 'c', kind: 'frame', payload, meta: '' });

/** Decodes `frames` by both paths from fresh states, asserting equality after every frame. */
function assertSame<S>(v: Venue<S>, frames: [bigint, string][]): void {
  const fastState = v.fresh();
  const exactState = v.fresh();
  for (const [recvNs, payload] of frames) {
    const ev = logEvent(v.name, recvNs, payload);
    const exact = v.exact(ev, exactState);
    const fast = v.fast(ev, fastState);
    expect(fast, `fast path ≠ JSON.parse path for ${JSON.stringify(payload)}`).toStrictEqual(exact);
    // The engine counts decode errors from the events; do it here too, so the counters compare whole.
    const errors = exact.filter((m) => m.type === 'decode_error').length;
    v.counts(exactState).errors += errors;
    v.counts(fastState).errors += errors;
  }
  expect(v.counts(fastState), 'counters').toStrictEqual(v.counts(exactState));
  expect(JSON.stringify(v.counts(fastState)), 'counters as manifest.json writes them').toBe(JSON.stringify(v.counts(exactState)));
}

// ---- mutations ----

const ODD_VALUES: unknown[] = [
  '', ' ', '0', '-0', '0.00000000', '-1', '1e15', '1e16', '1000000000000001', 'NaN', 'Infinity', '-Infinity', '0x10', ' 5 ', '1_0', '.5', '5.',
  '1.2.3', '١٢٣', '99999999999999999999999', '9007199254740993', '9223372036854775807', '9223372036854775808', '18446744073709551616',
  0, -1, -0, 1.5, 1e300, 9007199254740993, 9223372036854775807, 1723161255342, 1723161255342000, 1, true, false, null, [], {}, [1, 2], { a: 1 },
  'toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'BTCUSDT', 'BTC-USD', 'x'.repeat(65), 'BTC\u0000USD', 'BTC\u007fUSD',
  'buy', 'sell', 'trade', 'aggTrade', 'bookTicker', 'depthUpdate', 'match', 'last_match', 'ticker', 'heartbeat', 'subscriptions', 'error', 'l2update',
  '2021-04-17T16:43:37.089723Z', '2021-04-17T16:43:37Z', '2021-02-29T00:00:00Z', '2021-04-17T24:00:00Z', '2021-04-17T23:59:60Z', '1969-12-31T23:59:59.5Z',
  '2200-01-01T00:00:00Z', '2021-04-18T16:43:37.089723Z', '2021-04-19T16:43:37.089723Z', '2021-04-17T16:43:37.0897231234Z', '2021-04-17T16:43:37.Z',
];

const KEYS = ['e', 'E', 's', 't', 'a', 'p', 'q', 'T', 'm', 'M', 'u', 'b', 'B', 'A', 'stream', 'data', 'result', 'id', 'code', 'msg',
  'type', 'product_id', 'trade_id', 'price', 'size', 'side', 'time', 'best_bid', 'best_ask', 'best_bid_size', 'best_ask_size', 'last_trade_id',
  'message', 'reason', '__proto__', 'toString'];

type Mutation = (text: string) => string;

const value = fc.oneof(fc.constantFrom(...ODD_VALUES), fc.jsonValue({ maxDepth: 2 }), fc.string({ unit: 'binary', maxLength: 8 }));

/** A mutation of the parsed object (top level or the envelope's `data`), written back as JSON. */
const structural: fc.Arbitrary<Mutation> = fc.tuple(
  fc.constantFrom('set', 'delete', 'shuffle', 'duplicate', 'indent'), fc.constantFrom(...KEYS), value, fc.boolean(), fc.integer(),
).map(([op, key, v, inData, seed]) => (text: string) => {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return text;
  const root = msg as Record<string, unknown>;
  const target = inData && typeof root.data === 'object' && root.data !== null && !Array.isArray(root.data) ? root.data as Record<string, unknown> : root;
  const entries = Object.entries(target);
  switch (op) {
    case 'set':
      Object.defineProperty(target, key, { value: v, enumerable: true, configurable: true, writable: true });
      break;
    case 'delete':
      delete target[key];
      break;
    case 'shuffle': {
      for (const [k] of entries) delete target[k];
      const order = entries.map((e, i) => [e, (i * 7919 + seed) % 104729] as const).sort((x, y) => x[1] - y[1]);
      for (const [[k, val]] of order) Object.defineProperty(target, k, { value: val, enumerable: true, configurable: true, writable: true });
      break;
    }
    case 'duplicate': {
      // JSON.stringify cannot write a key twice: splice a second one into the text.
      const json = JSON.stringify(root);
      const member = `${JSON.stringify(key)}:${JSON.stringify(v) ?? 'null'}`;
      if (seed % 2 === 0) {
        const at = target === root ? 1 : json.indexOf('"data":{') + 8;
        return `${json.slice(0, at)}${member},${json.slice(at)}`;
      }
      const at = target === root ? json.length - 1 : json.length - 2;
      return `${json.slice(0, at)},${member}${json.slice(at)}`;
    }
    case 'indent':
      return JSON.stringify(root, null, seed % 2 === 0 ? 1 : '\t');
  }
  return JSON.stringify(root);
});

/** A mutation of the text itself. */
const textual: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((n) => (t: string) => t.slice(0, n % (t.length + 1))),
  fc.tuple(fc.nat(), fc.constantFrom(' ', '\n', '\t', '\r', ',', ':', '"', '\\', '{', '}', '[', ']', '0', '-', '.', 'e', '\u0000', '\u001f', '\u007f', '\u00e9', '\ud800', '\u2028', '\ufeff'))
    .map(([n, c]) => (t: string) => { const i = n % (t.length + 1); return t.slice(0, i) + c + t.slice(i); }),
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 4 })).map(([n, s]) => (t: string) => { const i = n % (t.length + 1); return t.slice(0, i) + s + t.slice(i + s.length); }),
  fc.nat().map((n) => (t: string) => { const i = n % Math.max(1, t.length); return t.slice(0, i) + t.slice(i + 1); }),
  // An escape that JSON.parse reads as the same character: `B` → `\u0042`, `/` → `\/`.
  fc.nat().map((n) => (t: string) => {
    const letters = [...t.matchAll(/[A-Za-z/]/g)];
    if (letters.length === 0) return t;
    const m = letters[n % letters.length]!;
    const esc = m[0] === '/' ? '\\/' : `\\u${m[0].charCodeAt(0).toString(16).padStart(4, '0')}`;
    return t.slice(0, m.index) + esc + t.slice(m.index! + 1);
  }),
  // A number token in another form: 1723161255342 → 1723161255342.0 / 1.723161255342e12 / -…
  fc.tuple(fc.nat(), fc.constantFrom('.0', 'e0', 'E+0', '0', '.5')).map(([n, suffix]) => (t: string) => {
    const nums = [...t.matchAll(/:(\d+)[,}]/g)];
    if (nums.length === 0) return t;
    const m = nums[n % nums.length]!;
    const at = m.index! + 1 + m[1]!.length;
    return t.slice(0, at) + suffix + t.slice(at);
  }),
  // A digit changed inside a time or a price.
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 9 })).map(([n, d]) => (t: string) => {
    const digits = [...t.matchAll(/\d/g)];
    if (digits.length === 0) return t;
    const m = digits[n % digits.length]!;
    return t.slice(0, m.index) + String(d) + t.slice(m.index! + 1);
  }),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 1, arbitrary: fc.constant((t: string) => t) },
  { weight: 4, arbitrary: structural },
  { weight: 4, arbitrary: textual },
  { weight: 1, arbitrary: fc.tuple(structural, textual).map(([a, b]) => (t: string) => b(a(t))) },
);

/** A receive time moved by up to ±3 days (the plausibility rule's bound is one day). */
const recvShift = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0n) },
  { weight: 1, arbitrary: fc.bigInt({ min: -3n * 86_400_000_000_000n, max: 3n * 86_400_000_000_000n }) },
);

function mutatedRuns<S>(v: Venue<S>, runs: number): void {
  const frames = FRAMES[v.name]!;
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.nat(), mutation, recvShift), { minLength: 1, maxLength: 6 }),
    (steps) => {
      const seqFrames: [bigint, string][] = [];
      for (const [n, mutate, shift] of steps) {
        const i = n % frames.length;
        // Two real frames before the mutated one, so trade ids and clocks have a history.
        for (const j of [i - 2, i - 1]) if (j >= 0) seqFrames.push(frames[j]!);
        const [recvNs, payload] = frames[i]!;
        seqFrames.push([recvNs + shift, mutate(payload)]);
      }
      assertSame(v, seqFrames);
    },
  ), { numRuns: runs });
}

describe('fast decoders equal the JSON.parse decoders', () => {
  it.each([[BINANCE], [COINBASE]] as [Venue<unknown>][])('on every real frame of $name, in order', (v) => {
    assertSame(v, FRAMES[v.name]!);
  });

  it('take the fast path for nearly every real frame (else the speed-up is lost)', () => {
    for (const [name, scan] of [['binance', scanBinance], ['coinbase', scanCoinbase]] as const) {
      const frames = FRAMES[name]!;
      const scanned = frames.filter(([, p]) => scan(p) !== undefined).length;
      expect(scanned / frames.length, `${name}: ${scanned} of ${frames.length} frames scanned`).toBeGreaterThan(REAL ? 0.99 : 0.5);
    }
  });

  it('on mutated Binance frames', () => mutatedRuns(BINANCE, 3_000));
  it('on mutated Coinbase frames', () => mutatedRuns(COINBASE, 3_000));
});

describe('number and time readers equal the exact ones', () => {
  it('decimalAt equals Number() wherever it answers', () => {
    fc.assert(fc.property(
      fc.oneof(
        fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 16n }), fc.integer({ min: 0, max: 17 })).map(([m, k]) => {
          const s = m.toString().padStart(k + 1, '0');
          return k === 0 ? s : `${s.slice(0, -k)}.${s.slice(-k)}`;
        }),
        fc.double({ noNaN: true, min: 0 }).map(String),
        fc.stringMatching(/^[0-9.]{0,18}$/),
      ),
      (s) => {
        const v = decimalAt(s, 0, s.length);
        if (v !== -1) expect(v, s).toBe(Number(s));
        else expect(/^\d{1,15}$|^\d+\.\d+$/.test(s) && s.replace('.', '').length <= 15, `declined a plain decimal: ${s}`).toBe(false);
      },
    ), { numRuns: 20_000 });
  });

  it('isoUsAt equals the isoToNs reading wherever it answers', () => {
    const exact = (s: string): number | undefined => {
      try {
        return Number(isoToNs(s) / 1000n);
      } catch {
        return undefined;
      }
    };
    const wellFormed = fc.tuple(fc.bigInt({ min: -10n * 86_400n, max: 2n ** 53n / 1_000_000n + 10n }), fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 0, max: 12 }))
      .map(([secs, ns, digits]) => {
        const d = new Date(Number(secs) * 1000);
        if (Number.isNaN(d.getTime()) || d.getUTCFullYear() > 9999) return '2021-04-17T16:43:37Z';
        const frac = digits === 0 ? '' : `.${String(ns).padStart(9, '0').padEnd(12, '7').slice(0, digits)}`;
        return `${d.toISOString().slice(0, 19)}${frac}Z`;
      });
    const odd = fc.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,10})?Z?$/);
    fc.assert(fc.property(fc.oneof(wellFormed, odd), (s) => {
      const fast = isoUsAt(s, 0, s.length);
      if (fast !== -1) expect(fast, s).toBe(exact(s));
    }), { numRuns: 20_000 });
    expect(isoUsAt('2021-04-17T16:43:37.089723Z', 0, 27)).toBe(1_618_677_817_089_723);
  });
});
