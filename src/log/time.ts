/** Integer-nanosecond time helpers. Decimal strings are parsed exactly, never via float. */

export const NS_PER_MS = 1_000_000n;

/**
 * Parses epoch seconds written as a decimal string (`1618677817.0618958`) into exact
 * integer nanoseconds. cryptofeed writes Python floats' repr, so up to 9 fraction digits
 * are kept and any further digits are truncated.
 */
export function decimalSecondsToNs(text: string): bigint {
  const m = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a decimal epoch-seconds value: ${JSON.stringify(text)}`);
  if (m[3] !== undefined) {
    // Exponent form is what Python prints for tiny or huge floats; never seen in practice.
    return BigInt(Math.round(Number(text) * 1e9));
  }
  const frac = (m[2] ?? '').slice(0, 9).padEnd(9, '0');
  return BigInt(m[1]!) * 1_000_000_000n + BigInt(frac);
}

/** ISO-8601 UTC with up to nanosecond fraction (`2021-04-17T16:43:37.089723Z`) → ns. */
export function isoToNs(iso: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(iso);
  if (!m) throw new Error(`not an ISO-8601 UTC time: ${JSON.stringify(iso)}`);
  const secMs = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(secMs)) throw new Error(`not an ISO-8601 UTC time: ${JSON.stringify(iso)}`);
  const frac = (m[2] ?? '').slice(0, 9).padEnd(9, '0');
  return BigInt(secMs) * NS_PER_MS + BigInt(frac);
}

export function nsToIso(ns: bigint): string {
  return new Date(Number(ns / NS_PER_MS)).toISOString();
}

/** ISO-8601 UTC to the nanosecond: as nsToIso for a whole millisecond, with nine fraction digits otherwise (isoToNs reads both back exactly). */
export function nsToIsoExact(ns: bigint): string {
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  if (frac % NS_PER_MS === 0n) return nsToIso(ns);
  return `${new Date(Number((ns - frac) / NS_PER_MS)).toISOString().slice(0, 19)}.${String(frac).padStart(9, '0')}Z`;
}

/** UTC calendar date (yyyy-mm-dd) of a nanosecond time. */
export function nsToDate(ns: bigint): string {
  return nsToIso(ns).slice(0, 10);
}

/** `2024-08-09`, `2024-08-09T00:00`, `…:00`, `…:00.123456789`, then `Z`, `+02:00`, `-0500` or nothing (UTC). */
const USER_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses a user-given time into ns: epoch ms (13 digits), or an ISO-8601 date or date-time
 * (UTC unless it carries an offset; fractions kept to the nanosecond). Anything else throws,
 * including what Date.parse would guess at (`-1` as 2001-01-01, `hello 2021`, February 30,
 * or a date-time without offset read in the machine's own time zone).
 */
export function parseUserTime(text: string): bigint {
  if (/^\d{13}$/.test(text)) return BigInt(text) * NS_PER_MS;
  const m = USER_TIME.exec(text);
  if (!m) throw new Error(`not a time: ${JSON.stringify(text)} (use ISO-8601, e.g. 2024-08-09T00:00:00Z)`);
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone = 'Z'] = m;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)] as const;
  // Receive times are INT64 nanoseconds: 1677-09-21 to 2262-04-11 (and Date.UTC reads years 0-99 as 1900-1999).
  if (fields[0] < 1678 || fields[0] > 2261) throw new Error(`not a time: ${JSON.stringify(text)} (out of range: receive times are nanoseconds in 64 bits, years 1678 to 2261)`);
  const utc = new Date(Date.UTC(...fields));
  const same = [utc.getUTCFullYear(), utc.getUTCMonth(), utc.getUTCDate(), utc.getUTCHours(), utc.getUTCMinutes(), utc.getUTCSeconds()];
  if (same.some((v, i) => v !== fields[i])) throw new Error(`not a time: ${JSON.stringify(text)} (no such date or time of day)`);
  const [zh, zm] = [Number(zone.slice(1, 3)), Number(zone.slice(-2))];
  // No offset in use is over 14 hours (+14:00, Kiribati); +99:99 was read as 4 days and 3 hours.
  if (!/^z$/i.test(zone) && (zm > 59 || zh * 60 + zm > 14 * 60)) throw new Error(`not a time: ${JSON.stringify(text)} (no such UTC offset: ${zone}; offsets run from -14:00 to +14:00)`);
  const offsetMin = /^z$/i.test(zone) ? 0 : (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm);
  return BigInt(utc.getTime() - offsetMin * 60_000) * NS_PER_MS + BigInt(frac.padEnd(9, '0'));
}

/** The last second `isoMicros` printed, and its text up to the seconds: a feed prints many times a second. */
let isoSecond = Number.NaN;
let isoSecondText = '';

/** ISO-8601 UTC with µs, as Coinbase prints times (`2021-04-17T16:43:37.089723Z`). */
export function isoMicros(tsUs: number): string {
  const second = Math.floor(tsUs / 1_000_000);
  if (second !== isoSecond) {
    isoSecondText = new Date(second * 1000).toISOString().slice(0, 19);
    isoSecond = second;
  }
  return `${isoSecondText}.${String(tsUs % 1_000_000).padStart(6, '0')}Z`;
}
