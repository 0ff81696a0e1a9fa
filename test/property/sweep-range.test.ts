/**
 * `--sweep name=a..b:step` (property): the values are exact decimals from a up to b, each the
 * last plus exactly step, floor((b - a) / step) + 1 of them — checked against exact rational
 * arithmetic on the strings, never against floats (0.1 + 0.2 is the noise this must not make).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sweepGrid } from '../../src/cli/sweep.ts';

/** A decimal string as an integer count of 10^-d. */
function exact(text: string): { n: bigint; d: number } {
  const [whole, frac = ''] = text.split('.') as [string, string?];
  return { n: BigInt(whole.replace('-', '') + frac) * (whole.startsWith('-') ? -1n : 1n), d: frac.length };
}

/** The decimal string at a common scale of 10^-d (d at least its own decimals). */
const at = (text: string, d: number): bigint => { const x = exact(text); return x.n * 10n ** BigInt(d - x.d); };

/** `n` units of 10^-d, written with all d decimals kept (`1.50`): the range's end as a user may type it. */
function padded(n: bigint, d: number): string {
  const digits = (n < 0n ? -n : n).toString().padStart(d + 1, '0');
  return `${n < 0n ? '-' : ''}${digits.slice(0, digits.length - d)}${d > 0 ? `.${digits.slice(digits.length - d)}` : ''}`;
}

const decimals = (text: string): number => exact(text).d;

/** a, step, the count of whole steps n, and b = a + n·step + a slack below one step (written with up to 2 more decimals). */
const ranges = fc.record({
  a: fc.stringMatching(/^-?\d{1,4}(\.\d{1,4})?$/),
  step: fc.stringMatching(/^\d{1,3}(\.\d{1,4})?$/).filter((s) => exact(s).n > 0n),
  n: fc.integer({ min: 0, max: 40 }),
  extra: fc.integer({ min: 0, max: 2 }),
  slack: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
}).map(({ a, step, n, extra, slack }) => {
  const d = Math.max(decimals(a), decimals(step)) + extra;
  const stepUnits = at(step, d);
  const slackUnits = BigInt(Math.floor(slack * Number(stepUnits))) % stepUnits;
  return { a, step, n, b: padded(at(a, d) + BigInt(n) * stepUnits + slackUnits, d) };
});

describe('--sweep a..b:step (property)', () => {
  it('gives exact decimals a, a + step, … ≤ b, floor((b - a) / step) + 1 of them', () => {
    fc.assert(fc.property(ranges, ({ a, b, step, n }) => {
      const values = sweepGrid([`x=${a}..${b}:${step}`], 1_000).x!;
      const d = Math.max(...[a, b, step, ...values].map(decimals));
      const [A, B, S] = [at(a, d), at(b, d), at(step, d)];
      expect(values.length, `${a}..${b}:${step}: floor((b - a) / step) + 1 values`).toBe(Number((B - A) / S) + 1);
      expect(values.length, 'b was built n whole steps (and less than one more) above a').toBe(n + 1);
      expect(at(values[0]!, d), 'the first value is a').toBe(A);
      values.forEach((v, i) => {
        expect(v, 'a plain decimal with no float noise, sign or trailing zero to spare').toMatch(/^(-?(0|[1-9]\d*)(\.\d*[1-9])?)$/);
        expect(v, 'no negative zero').not.toBe('-0');
        expect(at(v, d) >= A && at(v, d) <= B, `${v} within ${a}..${b}`).toBe(true);
        if (i > 0) expect(at(v, d) - at(values[i - 1]!, d), `${values[i - 1]} → ${v} is one step of ${step}`).toBe(S);
      });
    }), { numRuns: 500 });
  });
});
