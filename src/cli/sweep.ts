/**
 * `backtest --sweep`: the grid of values per parameter, from lists (`fast=3,5,8`) and decimal
 * ranges (`fast=5..20:5`), bounded by `--max-runs` before any value is made.
 */
import { UserError, nameValue } from './errors.ts';

/**
 * The most runs a sweep starts unless `--max-runs` says otherwise. Each run is a whole
 * backtest of the recording with an output folder of its own (`run-000` …): two sweeps of
 * 300 values made 90,000 of them without a word. On this project's 2-core machine 10 runs of
 * ma-cross over the 11-minute BTCUSDT session took 10.8 s (2026-11-23), so a thousand take
 * about 18 minutes and 90,000 a day; a grid past a thousand is more often a slip (a list
 * pasted twice, a script's range) than a plan, and a plan can say so.
 */
export const MAX_RUNS = 1_000;

const USAGE = 'name=a,b,c or name=a..b:step';

/** A decimal as typed: digits, an optional sign and fraction; no exponent (it would hide float noise). */
const DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** A parameter's values, counted before they are made (a range of a billion is refused, not built). */
interface Values { readonly count: bigint; readonly make: () => string[] }

/**
 * `a..b:step` → a, a+step, … up to b, as exact decimal strings (`0.1..0.5:0.1` is 0.1 … 0.5,
 * not 0.30000000000000004): the numbers are scaled to integers by the most decimals any of
 * them has and stepped as BigInts. Each value is written without trailing zeros (`1.50..2:0.5`
 * gives 1.5, 2). The last value is the largest a + k·step ≤ b, so b itself only when the step
 * reaches it.
 */
export function rangeValues(spec: string, text: string): Values {
  const m = /^(.*)\.\.(.*):(.*)$/.exec(text);
  const parts = m ? [m[1]!, m[2]!, m[3]!] : [];
  if (!m || !parts.every((p) => DECIMAL.test(p))) throw new UserError(`bad --sweep ${JSON.stringify(spec)} (a range is a..b:step in decimal numbers, e.g. fast=5..20:5)`);
  const decimals = Math.max(...parts.map((p) => p.split('.')[1]?.length ?? 0));
  const [a, b, step] = parts.map((p) => scaled(p, decimals)) as [bigint, bigint, bigint];
  if (step <= 0n) throw new UserError(`bad --sweep ${JSON.stringify(spec)} (the step of a range must be above 0)`);
  if (a > b) throw new UserError(`bad --sweep ${JSON.stringify(spec)} (a range runs upwards: ${parts[0]} is above ${parts[1]})`);
  const count = (b - a) / step + 1n;
  return { count, make: () => Array.from({ length: Number(count) }, (_, i) => decimal(a + BigInt(i) * step, decimals)) };
}

/** `-1.5` at 3 decimals → -1500n. */
function scaled(text: string, decimals: number): bigint {
  const [whole, frac = ''] = text.split('.') as [string, string?];
  const negative = whole.startsWith('-');
  const n = BigInt(whole.replace('-', '') + frac.padEnd(decimals, '0'));
  return negative ? -n : n;
}

/** -1500n at 3 decimals → `-1.5`: the shortest exact decimal. */
function decimal(n: bigint, decimals: number): string {
  const digits = (n < 0n ? -n : n).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return `${n < 0n ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/**
 * `--sweep k=a,b,c …` / `k=a..b:step` as its grid of values per parameter, refused in one line
 * when it makes more than `maxRuns` runs (saying how many it makes, counted before any value is
 * made), or names a parameter twice (the second list replaced the first without a word).
 */
export function sweepGrid(specs: readonly string[], maxRuns: number): Record<string, string[]> {
  if (!Number.isInteger(maxRuns) || maxRuns < 1) throw new UserError(`bad --max-runs ${maxRuns} (a whole number of runs, 1 or more)`);
  const given = new Map<string, { text: string; values: Values }>();
  for (const spec of specs) {
    const [k, v] = nameValue(spec, '--sweep', USAGE);
    const before = given.get(k);
    if (before) {
      const merged = v.includes('..') || before.text.includes('..') ? '' : `, e.g. ${k}=${before.text},${v}`;
      throw new UserError(`--sweep ${k} is given twice (${k}=${before.text} and ${spec}): give its values once${merged}`);
    }
    given.set(k, { text: v, values: v.includes('..') ? rangeValues(spec, v) : listValues(v) });
  }
  const sizes = [...given].map(([k, { values }]) => ({ k, n: values.count }));
  const runs = sizes.reduce((n, s) => n * s.n, 1n);
  if (runs > BigInt(maxRuns)) {
    throw new UserError(`--sweep makes ${runs.toLocaleString('en-US')} runs (${sizes.map((s) => `${s.k} ${s.n}`).join(' × ')}), more than ${maxRuns.toLocaleString('en-US')}${maxRuns === MAX_RUNS ? '' : ' (--max-runs)'}: sweep fewer values, or allow them with --max-runs ${runs}`);
  }
  return Object.fromEntries([...given].map(([k, { values }]) => [k, values.make()]));
}

function listValues(text: string): Values {
  const values = text.split(',');
  return { count: BigInt(values.length), make: () => values };
}
