/**
 * The scanner's two readers agree: wherever the regular expression certifies a frame as
 * flat, `walkFlat` (which trusts it) and `readObject` (which checks every character) find
 * the same fields at the same spans, on real frames and on generated flat objects.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_FRAME, FALLBACK, FLAT_FRAME, Fields, readObject, walkFlat } from '../../src/exchanges/scan.ts';
import { parseCryptofeedLine, parseHftbacktestLine } from '../../src/importers/formats.ts';
import { REAL, readLines, real } from '../helpers.ts';

/** Every one-letter key its own slot (a–z, A–Z), like Binance's table; longer keys by their length. */
const SLOTS = 64;
const slotOf = (text: string, start: number, end: number): number => {
  if (end - start === 1) {
    const c = text.charCodeAt(start);
    return c >= 97 && c <= 122 ? c - 97 : c >= 65 && c <= 90 ? c - 65 + 26 : -1;
  }
  return end - start < 12 ? 52 + (end - start) : -1;
};

function spans(f: Fields): string[] {
  const out: string[] = [];
  for (let i = 0; i < SLOTS; i++) if (f.kind[i] !== 0) out.push(`${i}:${f.kind[i]}:${f.start[i]}-${f.end[i]}`);
  return out;
}

/** The two readings of a frame that FLAT_FRAME or ENVELOPE_FRAME certified (the object read is the envelope's data). */
function compare(text: string): boolean {
  const at = FLAT_FRAME.test(text) ? 0 : ENVELOPE_FRAME.test(text) ? text.indexOf('"', 11) + 9 : -1;
  if (at < 0) return false;
  const walked = new Fields(SLOTS);
  const read = new Fields(SLOTS);
  const w = walkFlat(text, at, walked, slotOf);
  const r = readObject(text, at, read, slotOf);
  expect(w, `both readers end at the same place, or both refuse: ${text}`).toBe(r);
  if (w !== FALLBACK) expect(spans(walked), text).toEqual(spans(read));
  return true;
}

const frames: string[] = REAL
  ? [
    ...readLines(real('binance/hftbacktest/btcusdt_20240809.gz')).slice(0, 20_000).map((l) => parseHftbacktestLine(l).payload),
    ...['binance/cryptofeed/BINANCE-b38f7c.0', 'coinbase/cryptofeed/COINBASE.ws.28.0'].flatMap((f) =>
      readLines(real(f)).flatMap((l) => { const r = parseCryptofeedLine(l); return r?.kind === 'frame' ? [r.payload] : []; })),
  ]
  : ['{"u":1,"s":"BTCUSDT","b":"1","B":"2","a":"3","A":"4"}'];

describe('scanner readers', () => {
  it('find the same spans on real frames', () => {
    const certified = frames.filter(compare).length;
    expect(certified / frames.length, 'nearly every real frame is flat').toBeGreaterThan(REAL ? 0.97 : 0.5);
  });

  it('find the same spans on generated flat objects, and refuse the same duplicates', () => {
    const key = fc.oneof(fc.constantFrom('e', 'E', 's', 't', 'T', 'a', 'b', 'stream', 'data', ''), fc.string({ maxLength: 13 }));
    const scalar = fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null),
      fc.array(fc.array(fc.stringMatching(/^[0-9A-Za-z._-]{0,6}$/), { maxLength: 3 }), { maxLength: 3 }));
    fc.assert(fc.property(fc.array(fc.tuple(key, scalar), { maxLength: 12 }), fc.boolean(), (members, envelope) => {
      const obj = `{${members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
      const text = envelope ? `{"stream":"btcusdt@trade","data":${obj}}` : obj;
      compare(text);
    }), { numRuns: 5_000 });
  });
});
