/**
 * What a strategy asks the engine to compute (`needs()`), held to the rules `--windows`,
 * `--sma`, `--ema` and `--rsi` are held to, before any replay. Unchecked, `windowsMs: [-5]`
 * sampled equity in an endless loop until the heap ran out, `[0]` failed with "Division by
 * zero", and `[NaN]` or `sma: [0]` ran to the end and recorded nonsense ("NaNms").
 */
import { TapedeckError } from '../src/errors.ts';
import { isPeriod, isRsiPeriod, isWindowMs } from '../src/engine/config.ts';
import { frozenParams } from './params.ts';
import { shown, thrown } from './shown.ts';
import type { ParamValue, Strategy, StrategyNeeds } from './types.ts';

/** A `needs()` that throws, answers with no object, or asks for what the engine does not make: one line, exit 2. */
export class NeedsError extends TapedeckError {}

/** Each list: the values it takes, in the words of the option that sets it on the command line. */
const LISTS = {
  windowsMs: { each: isWindowMs, is: 'a window the engine makes: whole ms, 1000 (1s) or more, dividing a day evenly, as --windows takes' },
  sma: { each: isPeriod, is: 'an SMA period: a whole number of candles, 1 or more, as --sma takes' },
  ema: { each: isPeriod, is: 'an EMA period: a whole number of candles, 1 or more, as --ema takes' },
} as const;

/** The strategy's needs for `params`, checked (none when it declares no `needs`). */
export function strategyNeeds(strategy: Strategy, params: Readonly<Record<string, ParamValue>>): StrategyNeeds {
  if (strategy.needs === undefined) return {};
  const bad = (what: string): NeedsError => new NeedsError(`strategy ${strategy.name}'s needs() ${what}`);
  let needs: unknown;
  try {
    needs = strategy.needs(frozenParams(params) as never);
  } catch (err) {
    throw bad(`threw: ${thrown(err)}`);
  }
  if (typeof needs !== 'object' || needs === null || Array.isArray(needs)) throw bad(`returned ${shown(needs)}, not { windowsMs?, sma?, ema?, rsi? }`);
  const given = needs as Record<string, unknown>;
  const unknown = Object.keys(given).find((k) => !Object.hasOwn(LISTS, k) && k !== 'rsi');
  if (unknown !== undefined) throw bad(`returned ${unknown}, which is none of windowsMs, sma, ema, rsi`);
  for (const [k, list] of Object.entries(LISTS)) {
    const v = given[k];
    if (v === undefined) continue;
    if (!Array.isArray(v)) throw bad(`returned ${k} ${shown(v)}, not a list (e.g. ${k}: [${k === 'windowsMs' ? 60_000 : 20}])`);
    const wrong = v.findIndex((x: unknown) => !(typeof x === 'number' && list.each(x)));
    if (wrong >= 0) throw bad(`returned ${k} [${Array.from(v.slice(0, 10), (x: unknown) => shown(x, 40)).join(', ')}${v.length > 10 ? ', …' : ''}]: ${shown(v[wrong])} is not ${list.is}`);
  }
  if (given.rsi !== undefined && !(typeof given.rsi === 'number' && isRsiPeriod(given.rsi))) {
    throw bad(`returned rsi ${shown(given.rsi)}, not an RSI period: a whole number of candles, 2 or more, as --rsi takes`);
  }
  return given as StrategyNeeds;
}
