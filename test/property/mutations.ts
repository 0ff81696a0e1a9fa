/**
 * Mutations of exchange frames for property tests: key order, whitespace, escapes,
 * truncation, wrong types, huge and odd numbers, missing and duplicated keys, unicode,
 * control characters, prototype names, times far from the receive time.
 */
import fc from 'fast-check';

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

export type Mutation = (text: string) => string;

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

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 1, arbitrary: fc.constant((t: string) => t) },
  { weight: 4, arbitrary: structural },
  { weight: 4, arbitrary: textual },
  { weight: 1, arbitrary: fc.tuple(structural, textual).map(([a, b]) => (t: string) => b(a(t))) },
);

