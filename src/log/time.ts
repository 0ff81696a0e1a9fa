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

/** UTC calendar date (yyyy-mm-dd) of a nanosecond time. */
export function nsToDate(ns: bigint): string {
  return nsToIso(ns).slice(0, 10);
}

/** Parses a user-given time (ISO-8601, date, or epoch ms) into ns; throws on nonsense. */
export function parseUserTime(text: string): bigint {
  if (/^\d{13}$/.test(text)) return BigInt(text) * NS_PER_MS;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`not a time: ${JSON.stringify(text)} (use ISO-8601, e.g. 2024-08-09T00:00:00Z)`);
  return BigInt(ms) * NS_PER_MS;
}

/** ISO-8601 UTC with µs, as Coinbase prints times (`2021-04-17T16:43:37.089723Z`). */
export function isoMicros(tsUs: number): string {
  const ms = Math.floor(tsUs / 1000);
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(tsUs % 1_000_000).padStart(6, '0')}Z`;
}
