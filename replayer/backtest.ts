/**
 * `tapedeck backtest`: a replay at full speed with a strategy in the pipeline, then its
 * report (report.json, a printed table, equity.svg). A sweep runs a parameter grid, in
 * worker threads when there is more than one core to use, and writes one summary table.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { intervalName, type EngineConfig } from '../src/engine/config.ts';
import { writeParquet, type Column } from '../src/storage/parquet.ts';
import { checkOutputFolder } from '../src/storage/run.ts';
import { TapedeckError } from '../src/errors.ts';
import type { ExecutionConfig } from '../strategies/execution.ts';
import { loadStrategy } from '../strategies/registry.ts';
import { buildReport, equitySvg, type Report } from '../strategies/report.ts';
import { resolveParams } from '../strategies/params.ts';
import { strategyNeeds } from '../strategies/needs.ts';
import type { ParamValue, Strategy, StrategyNeeds } from '../strategies/types.ts';
import { checkOutsideArchive, replay } from './replay.ts';

export interface BacktestJob {
  readonly from: string;
  readonly out: string;
  readonly strategy: string;
  readonly params: Record<string, string>;
  readonly config: EngineConfig;
  readonly execution: ExecutionConfig;
  readonly equityIntervalMs?: number;
  readonly startNs?: bigint;
  readonly endNs?: bigint;
}

/** The engine config with what the strategy needs added (windows, periods). */
export function withNeeds(cfg: EngineConfig, needs: StrategyNeeds): EngineConfig {
  const union = (a: readonly number[], b: readonly number[] = []): number[] => [...new Set([...a, ...b])].sort((x, y) => x - y);
  return {
    ...cfg,
    intervalsMs: union(cfg.intervalsMs, needs.windowsMs),
    smaPeriods: union(cfg.smaPeriods, needs.sma),
    emaPeriods: union(cfg.emaPeriods, needs.ema),
    rsiPeriod: needs.rsi ?? cfg.rsiPeriod,
  };
}

export async function backtest(job: BacktestJob, loaded?: Strategy): Promise<{ report: Report; events: number; elapsedMs: number }> {
  const strategy = loaded ?? (await loadStrategy(job.strategy));
  const params = resolveParams(strategy, job.params);
  const config = withNeeds(job.config, strategyNeeds(strategy, params));
  const equityIntervalMs = job.equityIntervalMs ?? Math.min(10_000, config.intervalsMs[0]!);
  const { manifest, tables, elapsedMs } = await replay({
    from: job.from, out: job.out, speed: 'max', config,
    ...(job.startNs !== undefined ? { startNs: job.startNs } : {}), ...(job.endNs !== undefined ? { endNs: job.endNs } : {}),
    strategy: { strategy, params, execution: job.execution, equityIntervalMs },
  });
  // The replay has written the manifest: should the report fail, it goes, with an earlier
  // run's report.json and equity.svg, so the folder never holds a manifest beside a report it does not describe.
  let report: Report;
  try {
    report = buildReport(strategy.name, params, tables.equity, tables.fills, intervalName(equityIntervalMs));
    fs.writeFileSync(path.join(job.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(path.join(job.out, 'equity.svg'), equitySvg(tables.equity, `${strategy.name} · equity (mark to market)`));
  } catch (err) {
    fs.rmSync(path.join(job.out, 'manifest.json'), { force: true });
    for (const f of ['report.json', 'equity.svg']) {
      try {
        fs.rmSync(path.join(job.out, f), { force: true });
      } catch {
        // (a folder of that name, say): the error to report is the first one.
      }
    }
    throw err;
  }
  return { report, events: manifest.events, elapsedMs };
}

/** `fast=3,5` + `slow=10,20` → every combination, in a stable order. */
export function grid(sweeps: Readonly<Record<string, string[]>>): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const k of Object.keys(sweeps).sort()) out = out.flatMap((g) => sweeps[k]!.map((v) => ({ ...g, [k]: v })));
  return out;
}

/**
 * The output folder of run `i` of a grid of `runs`: the index zero-padded to the width of the
 * grid's largest one, at least 3 digits (`run-000` …), so a listing sorted by name is run order
 * also past a thousand runs (padded to 3 only, `run-1000` sorted before `run-101`).
 */
export function runFolder(i: number, runs: number): string {
  return `run-${String(i).padStart(Math.max(3, String(runs - 1).length), '0')}`;
}

/** Runs `combos` (by default the whole grid of `sweeps`; the CLI leaves out those breaking the strategy's rules). */
export async function sweep(job: BacktestJob, sweeps: Readonly<Record<string, string[]>>, say: (l: string) => void, combos = grid(sweeps)): Promise<{ rows: (Report & { run: string })[]; workers: number }> {
  // Refused here, once, as a backtest refuses it: in the workers each run failed on its own, exit 1.
  checkOutputFolder(job.out);
  checkOutsideArchive(job.out, job.from);
  const workers = Math.max(1, Math.min(combos.length, os.availableParallelism()));
  const jobs = combos.map((g, i) => ({ ...job, params: { ...job.params, ...g }, out: path.join(job.out, runFolder(i, combos.length)) }));
  const results: (Report & { run: string })[] = new Array(jobs.length);
  let next = 0;
  const runOne = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      const j = jobs[i]!;
      const report = workers > 1 ? await inWorker(j) : (await backtest(j)).report;
      results[i] = { run: path.basename(j.out), ...report };
      say(`  ${path.basename(j.out)} ${Object.entries(combos[i]!).map(([k, v]) => `${k}=${v}`).join(' ')}: return ${report.total_return_pct.toFixed(4)} %, ${report.trades} trades`);
    }
  };
  await Promise.all(Array.from({ length: workers }, runOne));
  const paramNames = Object.keys(sweeps).sort();
  const columns: Column[] = [
    { name: 'run', type: 'STRING' },
    ...paramNames.map((name) => ({ name: `param_${name}`, type: 'STRING' as const, derive: (r: Record<string, unknown>) => String((r.params as Record<string, ParamValue>)[name]) })),
    ...(['total_return_pct', 'max_drawdown_pct'] as const).map((name) => ({ name, type: 'DOUBLE' as const })),
    { name: 'sharpe', type: 'DOUBLE', nullable: true },
    { name: 'trades', type: 'INT32' }, { name: 'round_trips', type: 'INT32' },
    { name: 'win_rate_pct', type: 'DOUBLE', nullable: true },
    ...(['fees_paid', 'exposure_pct', 'final_equity'] as const).map((name) => ({ name, type: 'DOUBLE' as const })),
  ];
  writeParquet(path.join(job.out, 'sweep.parquet'), columns, results as unknown as Record<string, unknown>[]);
  fs.writeFileSync(path.join(job.out, 'sweep.json'), `${JSON.stringify(results, null, 2)}\n`);
  return { rows: results, workers };
}

/** Runs one backtest in a worker thread (TypeScript through tsx, as in the main thread). */
function inWorker(job: BacktestJob): Promise<Report> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./sweep-worker.mjs', import.meta.url), {
      workerData: { ...job, startNs: job.startNs?.toString(), endNs: job.endNs?.toString() },
    });
    // A refusal in the worker keeps its exit code (2 for bad input).
    w.once('message', (m: { report?: Report; error?: string; exitCode?: number }) => (m.report ? resolve(m.report) : reject(m.exitCode !== undefined ? new TapedeckError(m.error!, m.exitCode) : new Error(m.error))));
    w.once('error', reject);
  });
}
