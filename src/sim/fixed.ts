/**
 * `Number#toFixed` and `Number(x.toFixed(d))`, exactly, without the runtime's decimal
 * conversion where arithmetic gives the same answer: the simulator's market rounds and prints
 * four to six numbers an event, and at a flood (`simulate --rate 150k`) `toFixed` was a fifth
 * of its CPU. Same answers as the built-ins for every double (test/property/sim-fixed.test.ts);
 * the seeded market, and so the demo and its golden digests, do not change.
 *
 * Why it is exact: `toFixed(d)` prints k/10^d, k the integer nearest the exact x·10^d (ties
 * away from zero). The float product z = x·10^d is within half an ulp of the exact one: under
 * 2^-5 while |z| < 2^49. So where z's fraction is not within 0.1 of one half,
 * `Math.round(z)` is that k; and k / 10^d, one correctly rounded division, is the double
 * nearest k/10^d, which is what parsing the printed decimal gives. Anything else (near a
 * tie, too large, not finite, d > 8) goes to the built-in.
 */

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8] as const;
/** |x·10^d| below this: the product's error is under 2^-5 (60,000.12 at 8 decimals is 2^42.4). */
const EXACT_BELOW = 2 ** 49;
/** How close to a tie the product's fraction may come before the built-in decides. */
const TIE_MARGIN = 0.1;

/** The integer nearest x·10^d as `toFixed(d)` rounds it, or undefined where that needs the built-in. */
function scaled(x: number, d: number): number | undefined {
  if (d > 8) return undefined;
  const z = x * POW10[d]!;
  if (!(Math.abs(z) < EXACT_BELOW)) return undefined;
  const k = Math.round(z);
  return Math.abs(Math.abs(z - k) - 0.5) > TIE_MARGIN ? k : undefined;
}

/** `Number(x.toFixed(d))`: x rounded to d decimals, as a double. */
export function roundTo(x: number, d: number): number {
  const k = scaled(x, d);
  // Zero keeps the built-in's sign (-0 prints "0", which parses as +0).
  return k === undefined || k === 0 ? Number(x.toFixed(d)) : k / POW10[d]!;
}

/** `x.toFixed(d)`, exactly. */
export function fixedText(x: number, d: number): string {
  const k = scaled(x, d);
  if (k === undefined || (k === 0 && x < 0)) return x.toFixed(d);
  if (d === 0) return String(k);
  const a = Math.abs(k);
  const p = POW10[d]!;
  const frac = a % p;
  const int = (a - frac) / p;
  const fracText = String(frac);
  return `${k < 0 ? '-' : ''}${int}.${fracText.length === d ? fracText : '0'.repeat(d - fracText.length) + fracText}`;
}
