/**
 * A run's outputs on disk: every table as Parquet plus `manifest.json` (version, options,
 * inputs, counts, and each table's canonical digest). Replay and the live recorder write
 * through this one function, so their manifests compare field for field.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EngineStats } from '../engine/engine.ts';
import { intervalName, type EngineConfig } from '../engine/config.ts';
import { IndicatorSet } from '../engine/indicators.ts';
import { STRATEGY_TABLES, TABLE_NAMES, type OutputTables } from '../engine/rows.ts';
import { nsToIso } from '../log/time.ts';
import { VERSION } from '../version.ts';
import { writeTables, type TableResult } from './outputs.ts';
import { tempName } from './parquet.ts';
import { TapedeckError } from '../errors.ts';

export interface Manifest {
  readonly tapedeck: string;
  readonly command: string;
  /** Sessions whose events the run saw. */
  readonly sessions: string[];
  readonly options: Record<string, unknown>;
  /** The engine configuration, exactly, so a replay can be run with the same one. */
  readonly engine: EngineConfig;
  readonly inputs: { file: string; sessions: string[] }[];
  readonly events: number;
  readonly first_recv: string | null;
  readonly last_recv: string | null;
  readonly stats: EngineStats;
  /** The strategy a backtest or paper-trading run ran, with everything needed to run it again. */
  readonly strategy: { name: string; params: Record<string, unknown>; execution: unknown; equity_interval_ms: number } | null;
  readonly tables: Record<string, TableResult>;
}

/** The engine options in human terms (window names), for the manifest. */
export function describeConfig(cfg: EngineConfig): Record<string, unknown> {
  return {
    windows: cfg.intervalsMs.map(intervalName), lateness_ms: cfg.latenessMs, max_hold_ms: cfg.maxHoldMs,
    sma: cfg.smaPeriods, ema: cfg.emaPeriods, rsi: cfg.rsiPeriod, arbitrage: cfg.arbitrage,
  };
}

export function indicatorColumns(cfg: EngineConfig): string[] {
  return IndicatorSet.columns(cfg.smaPeriods, cfg.emaPeriods, cfg.rsiPeriod);
}

export interface RunInfo {
  readonly command: string;
  readonly sessions: string[];
  readonly options: Record<string, unknown>;
  readonly inputs: { file: string; sessions: string[] }[];
  readonly firstNs: bigint | undefined;
  readonly lastNs: bigint | undefined;
  readonly strategy?: { strategy: { name: string }; params: Record<string, unknown>; execution: unknown; equityIntervalMs: number };
}

export { checkOutputFolder } from './out-folder.ts';

/**
 * Writes a run's tables, then its manifest: the manifest is written last and an earlier
 * run's is removed first, so a folder whose writing failed or was cut short never holds a
 * manifest beside tables it does not describe (a manifest means a whole run).
 */
export function writeRun(out: string, tables: OutputTables, stats: EngineStats, cfg: EngineConfig, info: RunInfo): Manifest {
  fs.mkdirSync(out, { recursive: true });
  fs.rmSync(path.join(out, 'manifest.json'), { force: true });
  const manifest: Manifest = {
    tapedeck: VERSION,
    command: info.command,
    sessions: info.sessions,
    options: { ...info.options, ...describeConfig(cfg) },
    engine: cfg,
    inputs: info.inputs,
    events: stats.events,
    first_recv: info.firstNs !== undefined ? nsToIso(info.firstNs) : null,
    last_recv: info.lastNs !== undefined ? nsToIso(info.lastNs) : null,
    stats,
    strategy: info.strategy
      ? { name: info.strategy.strategy.name, params: info.strategy.params, execution: info.strategy.execution, equity_interval_ms: info.strategy.equityIntervalMs }
      : null,
    tables: writeTables(out, tables, indicatorColumns(cfg), TABLE_NAMES),
  };
  const file = path.join(out, 'manifest.json');
  const tmp = tempName(file);
  fs.writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(tmp, file);
  return manifest;
}

/** A run's manifest; one that is not JSON, or lacks what readers use (engine, tables, sessions), is one line naming it. */
export function readManifest(dir: string): Manifest {
  const file = path.join(dir, 'manifest.json');
  let m: Partial<Manifest> | null;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Manifest> | null;
  } catch (err) {
    throw new TapedeckError(`${file} is not a tapedeck manifest (${(err as Error).message})`);
  }
  const wrong = typeof m !== 'object' || m === null ? 'not an object'
    : typeof m.engine !== 'object' || m.engine === null || !Array.isArray(m.engine.intervalsMs) || typeof m.engine.arbitrage !== 'object' ? 'no engine configuration'
      : typeof m.tables !== 'object' || m.tables === null ? 'no tables' : !Array.isArray(m.sessions) ? 'no sessions' : undefined;
  if (wrong !== undefined) throw new TapedeckError(`${file} is not a tapedeck manifest (${wrong})`);
  return m as Manifest;
}

/** `candles 16, indicators 16, …` for a summary line; strategy tables only when a strategy ran. */
export function tableSummary(m: Manifest): string {
  return Object.entries(m.tables)
    .filter(([t]) => m.strategy !== null || !(STRATEGY_TABLES as readonly string[]).includes(t))
    .map(([t, r]) => `${t} ${r.rows}`).join(', ');
}
