/** Strategy options shared by `backtest` and `record --strategy`. */
import type { Argv } from 'yargs';
import { DEFAULT_EXECUTION, type ExecutionConfig } from '../../strategies/execution.ts';
import { BUILT_IN } from '../../strategies/registry.ts';
import { feesSpec, parseDuration, type EngineConfig } from '../engine/config.ts';
import { parseExchangeFees } from './engine-options.ts';
import { UserError, aboveZero, nameValue, userInput } from './errors.ts';

export function withStrategyOptions<T>(y: Argv<T>) {
  return y
    .option('param', { type: 'string', array: true, default: [], describe: 'strategy parameter k=v (repeatable)' })
    .option('latency', { type: 'string', default: '50ms', describe: 'simulated order latency, in recorded time' })
    .option('capital', { type: 'number', default: DEFAULT_EXECUTION.initialCash, describe: 'starting capital (quote currency)' })
    .option('maker-fees', { type: 'string', default: feesSpec(DEFAULT_EXECUTION.makerFeeBps), describe: 'maker fees in bps, exchange=bps,… (taker fees: --fees)' })
    .option('equity-interval', { type: 'string', describe: 'equity sampling interval (default: the strategy\'s candle interval)' });
}

export interface StrategyArgs { param: string[]; latency: string; capital: number; 'maker-fees': string; 'equity-interval'?: string }

export function parseParams(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const [name, value] = nameValue(kv, '--param', 'name=value');
    if (Object.hasOwn(out, name)) throw new UserError(`--param ${name} is given twice (${out[name]} and ${value}): give it once`);
    out[name] = value;
  }
  return out;
}

/** --equity-interval in ms (a duration above 0: equity is sampled that often), or undefined when it is not given. */
export function equityInterval(a: StrategyArgs): number | undefined {
  const text = a['equity-interval'];
  if (!text) return undefined;
  const ms = aboveZero('--equity-interval', text, userInput(() => parseDuration(text)));
  // Digits enough read as Infinity (or past exact whole ms), which the sampling grid cannot step by.
  if (!Number.isSafeInteger(ms)) throw new UserError(`bad --equity-interval ${text} (too long to count in whole ms: a duration above 0 such as 10s or 1m)`);
  return ms;
}

/** Execution settings: taker fees follow the engine's --fees, so the arbitrage detector and the fills agree. */
export function executionConfig(a: StrategyArgs, engine: EngineConfig): ExecutionConfig {
  // `1e400` reads as Infinity, which is above 0 too.
  if (!(Number.isFinite(a.capital) && a.capital > 0)) throw new UserError(`bad --capital ${a.capital} (a positive, finite amount)`);
  const latencyMs = userInput(() => parseDuration(a.latency));
  if (!Number.isFinite(latencyMs)) throw new UserError(`bad --latency ${a.latency} (a finite duration, e.g. 50ms)`);
  return {
    ...DEFAULT_EXECUTION,
    takerFeeBps: engine.arbitrage.feesBps,
    defaultTakerBps: engine.arbitrage.defaultFeeBps,
    makerFeeBps: { ...DEFAULT_EXECUTION.makerFeeBps, ...userInput(() => parseExchangeFees(a['maker-fees'], '--maker-fees')) },
    latencyMs,
    initialCash: a.capital,
  };
}

export const STRATEGY_HELP = `built-in strategies: ${Object.values(BUILT_IN).map((s) => `${s.name} (${Object.entries(s.params).map(([k, p]) => `${k}=${p.default}`).join(' ')})`).join('; ')}`;
