/**
 * A strategy's values and errors as the one line a refusal quotes. A strategy is user code:
 * what it hands back may be circular, hold BigInts or be a Proxy, and what it throws need not
 * be an Error. Describing it must never throw itself (a circular order turned "bad order"
 * into a three-line "Converting circular structure to JSON") nor span lines.
 */

/** `v` as JSON where it has a JSON form (BigInts as `5n`, NaN and ±Infinity by name, a repeated object as `[circular]`), cut to `max` characters. */
export function shown(v: unknown, max = 160): string {
  let text: string;
  try {
    text = typeof v === 'object' && v !== null ? json(v) : scalar(v);
  } catch {
    text = '[an object that cannot be shown]';
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** What was thrown, in its first line: an Error's message, or the thrown value shown. */
export function thrown(err: unknown): string {
  let message: unknown;
  try {
    message = err instanceof Error ? err.message : undefined;
  } catch {
    message = undefined;
  }
  const text = typeof message === 'string' ? message : shown(err);
  return text.split(/\r?\n/, 1)[0]!;
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  return String(v);
}

function json(v: object): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint' || typeof x === 'symbol' || (typeof x === 'number' && !Number.isFinite(x))) return scalar(x);
    if (typeof x === 'object' && x !== null) {
      if (seen.has(x)) return '[circular]';
      seen.add(x);
    }
    return x;
  }) ?? scalar(v);
}
