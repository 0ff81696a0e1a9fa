/** Time parsing, import line formats and the k-way merge: small pure pieces, with properties. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeBatches } from '../../replayer/merge.ts';
import { parseSpeed } from '../../replayer/pace.ts';
import { parseWindows } from '../../src/engine/config.ts';
import { cryptofeedFileInfo, parseCryptofeedLine, parseHftbacktestLine } from '../../src/importers/formats.ts';
import { decimalSecondsToNs, isoToNs, parseUserTime } from '../../src/log/time.ts';

describe('time', () => {
  it('parses cryptofeed epoch seconds exactly, never through a float', () => {
    expect(decimalSecondsToNs('1618677817.0618958')).toBe(1_618_677_817_061_895_800n);
    expect(decimalSecondsToNs('1618677816.8434298')).toBe(1_618_677_816_843_429_800n);
    expect(decimalSecondsToNs('1618677817')).toBe(1_618_677_817_000_000_000n);
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 4_000_000_000_000_000_000n }), (ns) => {
      const text = `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
      expect(decimalSecondsToNs(text)).toBe(ns);
    }));
  });

  it('parses ISO times with µs and ns fractions', () => {
    expect(isoToNs('2021-04-17T16:43:37.089723Z')).toBe(1_618_677_817_089_723_000n);
    expect(isoToNs('2026-08-09T21:05:48.228568804Z')).toBe(1_786_309_548_228_568_804n);
    expect(() => isoToNs('yesterday')).toThrow(/ISO/);
  });
});

describe('a user-given time (--start, --end)', () => {
  it('reads an ISO-8601 date-time at any offset as the instant it names, to the nanosecond', () => {
    fc.assert(fc.property(
      fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }), fc.integer({ min: 0, max: 999_999 }), fc.integer({ min: -14 * 60, max: 14 * 60 }),
      (ms, subMsNs, offsetMin) => {
        const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 23);
        const pad = (n: number): string => String(n).padStart(2, '0');
        const zone = offsetMin === 0 ? 'Z' : `${offsetMin < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`;
        expect(parseUserTime(`${local}${String(subMsNs).padStart(6, '0')}${zone}`)).toBe(BigInt(ms) * 1_000_000n + BigInt(subMsNs));
      },
    ));
  });

  it('reads a date, a date-time without offset (UTC, whatever the machine\'s zone) and epoch ms', () => {
    expect(parseUserTime('2024-08-09')).toBe(1_723_161_600_000_000_000n);
    expect(parseUserTime('2024-08-09T00:00')).toBe(1_723_161_600_000_000_000n);
    expect(parseUserTime('2024-08-09 01:00:00')).toBe(1_723_165_200_000_000_000n);
    expect(parseUserTime('1723161600000')).toBe(1_723_161_600_000_000_000n);
  });

  it.each(['-1', '12', '0', 'hello 2021', 'Apr 17 2021', '2021-02-30', '2023-02-29T00:00:00Z', '2021-04-17T24:00:00Z', '2021-13-01', '2021-04-17T16:60', '',
    '2024-08-09T00:05:00+99:99', '2024-08-09T00:05:00+14:01', '2024-08-09T00:05:00+00:60', '2024-08-09T00:05:00-25:00'])(
    'refuses %j, which Date.parse guesses at or rolls over', (text) => {
      expect(() => parseUserTime(text)).toThrow(/^not a time: /);
    });

  it('refuses a year 64-bit nanoseconds do not reach, in those words (0001-01-01 was "no such date": Date.UTC reads years 0-99 as 1900-1999)', () => {
    for (const text of ['0001-01-01', '0099-12-31T00:00:00Z', '1677-12-31', '2262-01-01', '9999-12-31']) {
      expect(() => parseUserTime(text), text).toThrow(/\(out of range: receive times are nanoseconds in 64 bits, years 1678 to 2261\)$/);
    }
    expect(parseUserTime('1678-01-01')).toBe(BigInt(Date.UTC(1678, 0, 1)) * 1_000_000n);
    expect(parseUserTime('2261-12-31T23:59:59.999999999Z')).toBe(BigInt(Date.UTC(2262, 0, 1)) * 1_000_000n - 1n);
  });
});

describe('import formats', () => {
  it('splits cryptofeed lines at the first ": " only', () => {
    expect(parseCryptofeedLine('1618677817.061845: {"a": "b: c"}')).toMatchObject({ kind: 'frame', payload: '{"a": "b: c"}', recvNs: 1_618_677_817_061_845_000n });
    expect(parseCryptofeedLine('wss://ws-feed.pro.coinbase.com <-> 1618677816.8434298')).toMatchObject({ kind: 'open', meta: 'wss://ws-feed.pro.coinbase.com' });
    expect(parseCryptofeedLine('wss://ws-feed.pro.coinbase.com <- 1618677817.020616: {"type":"subscribe"}')).toMatchObject({ kind: 'sent', payload: '{"type":"subscribe"}' });
    expect(parseCryptofeedLine('https://api.binance.com/api/v3/depth?symbol=X -> 1633998512.320639: {"lastUpdateId":1}')).toMatchObject({ kind: 'rest', meta: 'https://api.binance.com/api/v3/depth?symbol=X' });
    expect(parseCryptofeedLine('configuration: {"x": 1}')).toBeUndefined();
    expect(() => parseCryptofeedLine('garbage')).toThrow();
  });

  it('reads hftbacktest lines and spots the REST depth snapshot', () => {
    expect(parseHftbacktestLine('1723161253937085768 {"stream":"x","data":{}}')).toMatchObject({ kind: 'frame', recvNs: 1_723_161_253_937_085_768n });
    expect(parseHftbacktestLine('1723161253937085768 {"lastUpdateId":5,"bids":[]}')).toMatchObject({ kind: 'rest' });
    expect(() => parseHftbacktestLine('x {}')).toThrow();
  });

  it('gives every read line a payload that is the line\'s end (the import sends those bytes as they were read)', () => {
    const time = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `${a}.${b}`), fc.string({ maxLength: 4 }));
    const sep = fc.constantFrom(' ', ': ', ' <- ', ' -> ', ' <-> ', 'configuration: ', '');
    const prefix = fc.constantFrom('', 'wss://h/p', 'https://h/p?x=1');
    const line = fc.oneof(
      fc.tuple(prefix, sep, time, sep, fc.string({ unit: 'binary', maxLength: 40 })).map((p) => p.join('')),
      fc.string({ maxLength: 60 }),
    );
    fc.assert(fc.property(line, (l) => {
      for (const parse of [parseHftbacktestLine, parseCryptofeedLine]) {
        let rec;
        try {
          rec = parse(l);
        } catch {
          continue;
        }
        if (rec !== undefined) expect(l.endsWith(rec.payload)).toBe(true);
      }
    }), { numRuns: 2000 });
  });

  it('names exchanges and recordings from cryptofeed file names', () => {
    expect(cryptofeedFileInfo('COINBASE.ws.28.0')).toEqual({ exchange: 'coinbase', recording: 'COINBASE', conn: 'ws.28' });
    expect(cryptofeedFileInfo('BINANCE_US.http.0.0')).toEqual({ exchange: 'binanceus', recording: 'BINANCE_US', conn: 'http' });
    expect(cryptofeedFileInfo('BINANCE-ee25be.0')).toEqual({ exchange: 'binance', recording: 'BINANCE-ee25be', conn: '' });
    expect(cryptofeedFileInfo('notes.txt')).toBeUndefined();
  });
});

describe('options', () => {
  it('parses speeds and windows, and rejects nonsense in one line', () => {
    expect(parseSpeed('50x')).toBe(50);
    expect(parseSpeed('max')).toBe('max');
    expect(parseSpeed('0.5x')).toBe(0.5);
    for (const bad of ['0x', 'fast', '-1x', '']) expect(() => parseSpeed(bad)).toThrow(/--speed/);
    expect(parseWindows('5m,1s,1m')).toEqual([1_000, 60_000, 300_000]);
    for (const bad of ['7s', '1x', '', '500ms']) expect(() => parseWindows(bad)).toThrow(/window/);
  });
});

describe('mergeBatches', () => {
  it('is a stable sort of the union of sorted inputs, whatever the batch sizes (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.array(fc.integer({ min: 0, max: 50 }))), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 7 }), async (lists, inBatch, outBatch) => {
      const inputs = lists.map((l, src) => l.sort((a, b) => a - b).map((v, i) => ({ v, src, i })));
      async function* batches<T>(xs: T[]) {
        for (let i = 0; i < xs.length; i += inBatch) yield xs.slice(i, i + inBatch);
      }
      const lazy = inputs.filter((xs) => xs.length > 0).map((xs) => ({ first: xs[0]!, open: () => batches(xs) }));
      const got: { v: number; src: number; i: number }[] = [];
      for await (const b of mergeBatches(lazy, (a, b) => a.v - b.v, outBatch)) got.push(...b);
      const want = inputs.flat().sort((a, b) => a.v - b.v || a.src - b.src || a.i - b.i);
      expect(got).toEqual(want);
    }));
  });
});
