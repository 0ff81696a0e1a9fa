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
import type { LogEvent } from '../../src/log/event.ts';
import { isoToNs } from '../../src/log/time.ts';
import type { DecodeCounts, MarketEvent } from '../../src/market/events.ts';
import { REAL } from '../helpers.ts';
import { FRAMES } from './frames.ts';
import { mutation } from './mutations.ts';

interface Venue<S> {
  readonly name: string;
  readonly fresh: () => S;
  readonly fast: (ev: LogEvent, s: S) => MarketEvent[];
  readonly exact: (ev: LogEvent, s: S) => MarketEvent[];
  readonly counts: (s: S) => DecodeCounts;
}

const BINANCE: Venue<BinanceState> = { name: 'binance', fresh: newBinanceState, fast: decodeBinance, exact: decodeBinanceParsed, counts: (s) => s.counts };
const COINBASE: Venue<CoinbaseState> = { name: 'coinbase', fresh: newCoinbaseState, fast: decodeCoinbase, exact: decodeCoinbaseParsed, counts: (s) => s.counts };

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
