/**
 * Strategy parameters, from `k=v` text to values: each typed like its default, checked
 * against its declared range, then the strategy's rules across parameters. The one place
 * `--param`, every `--sweep` value, `record --strategy` and a sweep's worker resolve them,
 * so a bad value is one line before any replay starts, not nonsense or an error mid-run
 * (`fast=0` traded an EMA of period 0, `interval=0s` failed with "Division by zero").
 */
import { TapedeckError } from '../src/errors.ts';
import { intervalName, isWindowMs, parseDuration } from '../src/engine/config.ts';
import { EXCHANGE_IDS, isSupportedExchange } from '../src/exchanges/registry.ts';
import { shown } from './shown.ts';
import type { ParamRange, ParamValue, Strategy } from './types.ts';

/** A parameter value outside its range or type, or values breaking a rule: one line, exit 2. */
export class ParamError extends TapedeckError {
  constructor(readonly strategy: string, readonly given: Readonly<Record<string, string>>, readonly must: string) {
    super(`bad ${strategy} parameter${Object.keys(given).length > 1 ? 's' : ''} ${Object.entries(given).map(([k, v]) => `${k}=${asTyped(v)}`).join(' ')} (${must})`);
  }
}

/** A value as typed, quoted only when it would not read as one word (`market="binance: BTC"`). */
function asTyped(v: string): string {
  return /^[\w.:/+-]+$/.test(v) ? v : JSON.stringify(v);
}

/** `k=text` for a parameter `strategy` does not declare. */
function noSuchParam(strategy: Strategy, k: string, text: string): ParamError {
  return new ParamError(strategy.name, { [k]: text }, `${strategy.name} has no parameter ${JSON.stringify(k)}; it has: ${Object.keys(strategy.params).join(', ')}`);
}

/** One override, typed like its default and inside the parameter's range. */
export function paramValue(strategy: Strategy, k: string, text: string): ParamValue {
  const spec = Object.hasOwn(strategy.params, k) ? strategy.params[k] : undefined;
  if (spec === undefined) throw noSuchParam(strategy, k, text);
  const fail = (must: string): never => {
    throw new ParamError(strategy.name, { [k]: text }, must);
  };
  let value: ParamValue = text;
  if (typeof spec.default === 'number') {
    // Number('') is 0 and Number(' 5') is 5: only text that is a number counts.
    value = text.trim() === text ? Number(text) : NaN;
    if (!Number.isFinite(value)) fail(spec.range?.must ?? 'a number');
  } else if (typeof spec.default === 'boolean') {
    if (text !== 'true' && text !== 'false') fail('true or false');
    value = text === 'true';
  }
  const problem = spec.range?.problem(value);
  if (problem !== undefined) fail(problem);
  return value;
}

/** Defaults overridden by `overrides`, each typed and in range; the rules are not checked (see `resolveParams`). */
export function typedParams(strategy: Strategy, overrides: Readonly<Record<string, string>>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [k, spec] of Object.entries(strategy.params)) out[k] = spec.default;
  for (const [k, v] of Object.entries(overrides)) out[k] = paramValue(strategy, k, v);
  return out;
}

/**
 * The values a strategy's code is handed (its rules, `needs`, `init`, `decide`): a frozen
 * copy, so that what a run records (report.json, manifest.json) is what it was asked for. A
 * `decide` that set `p.size = 7` had the run record size 7 for orders placed at 0.5; now the
 * assignment throws (modules are strict) and stops the run as any throwing `decide` does.
 */
export function frozenParams(params: Readonly<Record<string, ParamValue>>): Readonly<Record<string, ParamValue>> {
  return Object.freeze({ ...params });
}

/** The first rule `params` break, as the error to throw, or undefined when they keep them all. */
export function brokenRule(strategy: Strategy, params: Readonly<Record<string, ParamValue>>): ParamError | undefined {
  const handed = frozenParams(params);
  const rule = strategy.rules?.find((r) => !r.holds(handed));
  return rule && new ParamError(strategy.name, Object.fromEntries(rule.params.map((k) => [k, String(params[k])])), rule.must);
}

/** Parameters from defaults overridden by `k=v` strings: typed like their defaults, in range, and keeping the strategy's rules. */
export function resolveParams(strategy: Strategy, overrides: Readonly<Record<string, string>>): Record<string, ParamValue> {
  const params = typedParams(strategy, overrides);
  const broken = brokenRule(strategy, params);
  if (broken) throw broken;
  return params;
}

/**
 * Values a run recorded (a manifest's `strategy.params`, which may be edited by hand), held
 * to what `--param` would take: every parameter given once, typed like its default, in its
 * range, keeping the rules (verify replayed `fast: 0` or `fast: "abc"` as given).
 */
export function recordedParams(strategy: Strategy, values: unknown): Record<string, ParamValue> {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new ParamError(strategy.name, {}, `the recorded parameters ${shown(values, 60)} are not an object`);
  const given = values as Record<string, unknown>;
  const out: Record<string, ParamValue> = {};
  for (const k of Object.keys(given)) {
    if (!Object.hasOwn(strategy.params, k)) throw noSuchParam(strategy, k, shown(given[k], 40));
  }
  for (const [k, spec] of Object.entries(strategy.params)) {
    if (!Object.hasOwn(given, k)) throw new ParamError(strategy.name, {}, `no value recorded for ${k}`);
    const v = given[k];
    const typed = typeof v === typeof spec.default && (typeof v !== 'number' || Number.isFinite(v));
    const problem = typed ? spec.range?.problem(v as ParamValue) : spec.range?.must ?? `a ${typeof spec.default}`;
    if (problem !== undefined) throw new ParamError(strategy.name, { [k]: typeof v === 'string' ? v : shown(v, 40) }, problem);
    out[k] = v as ParamValue;
  }
  const broken = brokenRule(strategy, out);
  if (broken) throw broken;
  return out;
}

// ---- Ranges, for strategies to declare in their ParamSpecs ----

/** A range from a predicate and its words. */
function range(must: string, ok: (v: number) => boolean): ParamRange {
  return { must, problem: (v) => (typeof v === 'number' && ok(v) ? undefined : must) };
}

/** A whole number of at least `min` (`unit`: what it counts, e.g. candles). */
export const wholeFrom = (min: number, unit = ''): ParamRange => range(`a whole number${unit && ` of ${unit}`}, ${min} or more`, (v) => Number.isInteger(v) && v >= min);

/** A number above 0 (`what`: what it is, e.g. a base quantity). */
export const aboveZero = (what = 'a number'): ParamRange => range(`${what} above 0`, (v) => v > 0);

/** A number from `lo` up to `hi`, with `hi` itself only when `hiIncluded`. */
export const between = (lo: number, hi: number, hiIncluded = true): ParamRange =>
  range(hiIncluded ? `a number from ${lo} to ${hi}` : `a number from ${lo}, below ${hi}`, (v) => v >= lo && (hiIncluded ? v <= hi : v < hi));

/** One of `choices`, spelt as listed. */
export function oneOf(...choices: string[]): ParamRange {
  const must = `one of ${choices.join(', ')}`;
  return { must, problem: (v) => (typeof v === 'string' && choices.includes(v) ? undefined : must) };
}

/**
 * A candle interval the engine makes (as `--windows` does: at least 1s, dividing a day),
 * written as the engine names it: indicator rows carry `1m`, so `60s` would never match one
 * and the strategy would never trade, without a word.
 */
export function interval(): ParamRange {
  const must = 'a candle interval: a duration of at least 1s that divides a day, e.g. 10s, 1m, 5m';
  return {
    must,
    problem: (v) => {
      let ms;
      try {
        ms = parseDuration(String(v));
      } catch {
        return must;
      }
      if (!isWindowMs(ms)) return must;
      return intervalName(ms) === v ? undefined : `${must}; write ${String(v)} as ${intervalName(ms)}, the name the engine gives it`;
    },
  };
}

/** `binance:BTCUSDT` → binance, BTCUSDT; `cryptocompare:Kraken:Kraken~XBT~USD` → cryptocompare:Kraken, Kraken~XBT~USD (the venue is the exchange). */
export function splitMarket(market: string): { exchange: string; symbol: string } {
  const i = market.lastIndexOf(':');
  return { exchange: i < 0 ? '' : market.slice(0, i), symbol: market.slice(i + 1) };
}

/**
 * A market `exchange:SYMBOL` on an exchange tapedeck knows. A cryptocompare venue is
 * `cryptocompare:<Market>` (as in `--fees`) and its symbols `<Market>~<FSYM>~<TSYM>`, as the
 * adapter names them: `cryptocompare:Kraken:XBT-USD` would never match a row, nor trade.
 */
export function market(): ParamRange {
  const must = `exchange:SYMBOL, the exchange one of ${EXCHANGE_IDS.join(', ')} or cryptocompare:<Market> with a symbol <Market>~<FSYM>~<TSYM>`;
  return {
    must,
    problem: (v) => {
      const { exchange, symbol } = splitMarket(String(v));
      const venue = /^cryptocompare:(\S+)$/.exec(exchange)?.[1];
      const known = venue !== undefined ? symbol.startsWith(`${venue}~`) : isSupportedExchange(exchange);
      return known && /^\S+$/.test(symbol) ? undefined : must;
    },
  };
}
