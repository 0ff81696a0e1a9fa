import path from 'node:path';
import type { CommandModule } from 'yargs';
import { backtest, grid, sweep } from '../../replayer/backtest.ts';
import { loadStrategy, StrategyLoadError } from '../../strategies/registry.ts';
import { formatReport } from '../../strategies/report.ts';
import { brokenRule, resolveParams, typedParams, type ParamError } from '../../strategies/params.ts';
import { strategyNeeds } from '../../strategies/needs.ts';
import type { Strategy } from '../../strategies/types.ts';
import { parseUserTime } from '../log/time.ts';
import { engineConfig, withEngineOptions, type EngineArgs } from './engine-options.ts';
import { UserError, userInput } from './errors.ts';
import { warnIfNoneInRange } from './range-note.ts';
import { STRATEGY_HELP, equityInterval, executionConfig, parseParams, withStrategyOptions, type StrategyArgs } from './strategy-options.ts';
import { MAX_RUNS, sweepGrid } from './sweep.ts';

interface Args extends EngineArgs, StrategyArgs { strategy: string; from: string; out: string; start?: string; end?: string; sweep: string[]; 'max-runs': number }

export const backtestCommand: CommandModule<object, Args> = {
  command: 'backtest',
  describe: 'run a strategy over a recording at full speed: orders, fills, equity, and a report',
  builder: (y) => withStrategyOptions(withEngineOptions(y
    .option('strategy', { type: 'string', demandOption: true, describe: `a built-in name or a path to a .ts module; ${STRATEGY_HELP}` })
    .option('from', { type: 'string', demandOption: true, describe: 'archive directory or kafka://host:port/topic' })
    .option('out', { type: 'string', default: 'data/out/backtest', describe: 'output directory' })
    .option('start', { type: 'string', describe: 'first receive time (ISO-8601)' })
    .option('end', { type: 'string', describe: 'receive time to stop before (ISO-8601)' })
    .option('sweep', { type: 'string', array: true, default: [], describe: 'parameter grid, each a list or a decimal range a..b:step, e.g. --sweep fast=3,5 --sweep slow=10..30:10' })
    .option('max-runs', { type: 'number', default: MAX_RUNS, describe: 'the most runs a --sweep grid may make (a larger grid is refused before any runs)' }))) as never,
  handler: async (a) => {
    let strategy;
    try {
      strategy = await loadStrategy(a.strategy);
    } catch (err) {
      if (err instanceof StrategyLoadError) throw new UserError(err.message);
      throw err;
    }
    const params = parseParams(a.param);
    const config = engineConfig(a);
    const sweeps = sweepGrid(a.sweep, a['max-runs']);
    const swept = Object.keys(sweeps).length > 0 ? sweepRuns(strategy, params, sweeps) : undefined;
    // Every run's needs, before the first starts (a sweep's workers would each refuse theirs, exit 1).
    for (const g of swept?.runs ?? [{}]) strategyNeeds(strategy, resolveParams(strategy, { ...params, ...g }));
    const equityMs = equityInterval(a);
    const job = {
      from: a.from, out: a.out, strategy: a.strategy, params, config, execution: executionConfig(a, config),
      ...(equityMs !== undefined ? { equityIntervalMs: equityMs } : {}),
      ...(a.start ? { startNs: userInput(() => parseUserTime(a.start!)) } : {}),
      ...(a.end ? { endNs: userInput(() => parseUserTime(a.end!)) } : {}),
    };
    if (swept !== undefined) {
      if (swept.leftOut) process.stdout.write(`${swept.leftOut}\n`);
      const t0 = performance.now();
      const { rows, workers } = await sweep(job, sweeps, (l) => process.stdout.write(`${l}\n`), swept.runs);
      const best = rows.reduce((b, r) => (r.total_return_pct > b.total_return_pct ? r : b));
      process.stdout.write(`swept ${rows.length} runs on ${workers} worker thread(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${path.join(a.out, 'sweep.parquet')}; best: ${best.run} (${best.total_return_pct.toFixed(4)} %)\n`);
      return;
    }
    const { report, events, elapsedMs } = await backtest(job, strategy);
    warnIfNoneInRange(events, a);
    process.stdout.write(`${formatReport(report)}\n`);
    process.stdout.write(`backtested ${events} events in ${(elapsedMs / 1000).toFixed(2)} s (${Math.round(events / (elapsedMs / 1000))} events/s) → ${a.out} (orders, fills, equity .parquet, report.json, equity.svg)\n`);
  },
};

/**
 * The runs of a sweep the strategy takes. Every value must be in its range (a typo in a grid
 * is refused, as in --param); a combination that breaks a rule across parameters is left
 * out, with a line saying how many, because a grid cannot say "only fast < slow"
 * (backtesting.py's `optimize(constraint=…)` does the same). No run left is refused.
 */
export function sweepRuns(strategy: Strategy, params: Record<string, string>, sweeps: Record<string, string[]>): { runs: Record<string, string>[]; leftOut?: string } {
  const all = grid(sweeps);
  const broken: ParamError[] = [];
  const kept = all.filter((g) => {
    const rule = brokenRule(strategy, typedParams(strategy, { ...params, ...g }));
    if (rule) broken.push(rule);
    return rule === undefined;
  });
  if (broken.length === 0) return { runs: kept };
  const e = broken[0]!;
  const example = `${Object.entries(e.given).map(([k, v]) => `${k}=${v}`).join(' ')} (${e.must})`;
  if (kept.length === 0) throw new UserError(`every run of this --sweep breaks a ${strategy.name} rule, e.g. ${example}`);
  return { runs: kept, leftOut: `--sweep leaves out ${broken.length} of ${all.length} runs that break a ${strategy.name} rule, e.g. ${example}` };
}
