/**
 * Values of scanned fields (scan.ts spans), read straight from the frame text: integers,
 * decimal strings, ISO times and symbols, each equal to what the JSON.parse path makes of
 * the same text wherever it answers, and FALLBACK (-1) where that path must decide.
 */
import { FALLBACK } from './scan.ts';

/**
 * A NUM token that is a plain non-negative integer of at most 15 digits (so exactly a safe
 * integer, as JSON.parse reads it), or FALLBACK for anything else (sign, fraction,
 * exponent, more digits: the JSON.parse path decides those).
 */
export function intAt(text: string, start: number, end: number): number {
  const len = end - start;
  if (len < 1 || len > 15) return FALLBACK;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return FALLBACK;
    v = v * 10 + (c - 48);
  }
  return v;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * A decimal string's value (`"61837.63000000"`), equal to `Number(s)` for the strings it
 * accepts: digits, at most one point with digits on both sides, at most 15 digits in all.
 * Then the digits form an exact integer m < 2^53 and 10^k is exact, so m / 10^k is one
 * correctly rounded IEEE division: the double nearest the decimal, as Number() gives
 * (Clinger's fast path). Anything else is FALLBACK.
 */
export function decimalAt(text: string, start: number, end: number): number {
  let m = 0;
  let digits = 0;
  let point = -1;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
    } else if (c === 46 && point < 0 && i > start) {
      point = i;
    } else return FALLBACK;
  }
  if (digits === 0 || digits > 15 || point === end - 1) return FALLBACK;
  return point < 0 ? m : m / POW10[end - point - 1]!;
}

/** Whether `text[start, end)` is exactly `word`. */
export function spanIs(text: string, start: number, end: number, word: string): boolean {
  return end - start === word.length && text.startsWith(word, start);
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction]Z` → integer µs since the epoch (fraction truncated to µs),
 * by days-from-civil arithmetic (H. Hinnant), with no Date.parse and no BigInt. It equals
 * `Number(isoToNs(s) / 1000n)` for what it accepts: a real calendar date from 1970 on,
 * hours 00–23, minutes and seconds 00–59, and a result below 2^53. Anything else (a leap
 * second, Feb 30, 24:00, years before 1970 where BigInt division rounds toward zero) is
 * FALLBACK, for the exact path to decide.
 */
export function isoUsAt(text: string, start: number, end: number): number {
  if (end - start < 20 || text.charCodeAt(end - 1) !== 90 /* Z */) return FALLBACK;
  if (text.charCodeAt(start + 4) !== 45 || text.charCodeAt(start + 7) !== 45 || text.charCodeAt(start + 10) !== 84
    || text.charCodeAt(start + 13) !== 58 || text.charCodeAt(start + 16) !== 58) return FALLBACK;
  const y = digitsAt(text, start, 4);
  const mo = digitsAt(text, start + 5, 2);
  const d = digitsAt(text, start + 8, 2);
  const h = digitsAt(text, start + 11, 2);
  const mi = digitsAt(text, start + 14, 2);
  const s = digitsAt(text, start + 17, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) {
    return FALLBACK;
  }
  let us = 0;
  let i = start + 19;
  if (i < end - 1) {
    if (text.charCodeAt(i) !== 46) return FALLBACK;
    i++;
    if (i === end - 1) return FALLBACK; // "." without digits
    let taken = 0;
    for (; i < end - 1; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return FALLBACK;
      if (taken < 6) {
        us = us * 10 + (c - 48);
        taken++;
      }
    }
    us *= POW10[6 - taken]!;
  }
  const secs = daysFromCivil(y, mo, d) * 86_400 + h * 3_600 + mi * 60 + s;
  const total = secs * 1_000_000 + us;
  return total <= Number.MAX_SAFE_INTEGER ? total : FALLBACK;
}

/** `count` decimal digits at `i` as a number, or -1. */
function digitsAt(text: string, i: number, count: number): number {
  let v = 0;
  for (let k = i; k < i + count; k++) {
    const c = text.charCodeAt(k);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (y ≥ 1, so every division is of non-negatives). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * The symbol at `text[start, end)` as a string, validated like any symbol (`check`), and the
 * same string object as last time when it repeats: no copy, and Map lookups reuse its hash.
 * A string fails or passes `check` by its content alone, so remembering passes is safe.
 */
export class SymbolCache {
  private readonly recent: string[] = [];

  constructor(private readonly check: (s: string) => string) {}

  at(text: string, start: number, end: number): string {
    const len = end - start;
    for (const s of this.recent) if (s.length === len && text.startsWith(s, start)) return s;
    const s = this.check(text.slice(start, end));
    if (this.recent.length >= 16) this.recent.pop();
    this.recent.unshift(s);
    return s;
  }
}
