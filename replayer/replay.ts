/**
 * `tapedeck replay`: read → merge → pace → pipeline → output tables + manifest.
 * The engine cannot tell a replay from a live run; only the source and the pace differ.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Engine, type EngineStats } from '../src/engine/engine.ts';
import type { EngineConfig } from '../src/engine/config.ts';
import { intervalName } from '../src/engine/config.ts';
import { IndicatorSet } from '../src/engine/indicators.ts';
import { TABLE_NAMES, TableCollector } from '../src/engine/rows.ts';
import type { LogEvent } from '../src/log/event.ts';
import { nsToIso } from '../src/log/time.ts';
import { writeTables, type TableResult } from '../src/storage/outputs.ts';
import { VERSION } from '../src/version.ts';
import { pace, type PaceClock, type Speed } from './pace.ts';
import { planArchive, readArchive } from './read.ts';

export interface ReplayOptions {
  readonly from: string;
  readonly out: string;
  readonly speed: Speed;
  readonly startNs?: bigint;
  readonly endNs?: bigint;
  readonly config: EngineConfig;
  /** Called every few thousand events with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  readonly clock?: PaceClock;
}

export interface Manifest {
  readonly tapedeck: string;
  readonly command: 'replay' | 'record';
  readonly options: Record<string, unknown>;
  readonly inputs: { file: string; sessions: string[] }[];
  readonly events: number;
  readonly first_recv: string | null;
  readonly last_recv: string | null;
  readonly stats: EngineStats;
  readonly tables: Record<string, TableResult>;
}

export interface ReplayResult {
  readonly manifest: Manifest;
  readonly elapsedMs: number;
}

/** The engine options as they go into a manifest (JSON-safe, stable key order). */
export function describeConfig(cfg: EngineConfig): Record<string, unknown> {
  return {
    windows: cfg.intervalsMs.map(intervalName), lateness_ms: cfg.latenessMs, max_hold_ms: cfg.maxHoldMs,
    sma: cfg.smaPeriods, ema: cfg.emaPeriods, rsi: cfg.rsiPeriod, arbitrage: cfg.arbitrage,
  };
}

export function indicatorColumns(cfg: EngineConfig): string[] {
  return IndicatorSet.columns(cfg.smaPeriods, cfg.emaPeriods, cfg.rsiPeriod);
}

/** Runs a whole event stream through a fresh engine and writes its outputs. */
export async function runPipeline(events: AsyncIterable<LogEvent>, cfg: EngineConfig, out: string, onEvent?: (n: number) => void) {
  const collector = new TableCollector();
  const engine = new Engine(cfg, collector);
  let first: bigint | undefined;
  let last: bigint | undefined;
  for await (const ev of events) {
    first ??= ev.recvNs;
    last = ev.recvNs;
    engine.onLog(ev);
    if (onEvent && engine.stats.events % 4096 === 0) onEvent(engine.stats.events);
  }
  engine.finish();
  fs.mkdirSync(out, { recursive: true });
  const tables = writeTables(out, collector.tables, indicatorColumns(cfg), TABLE_NAMES);
  return { stats: engine.stats, tables, first, last };
}

export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  const t0 = performance.now();
  const plan = await planArchive(opts.from);
  const range = { ...(opts.startNs !== undefined ? { startNs: opts.startNs } : {}), ...(opts.endNs !== undefined ? { endNs: opts.endNs } : {}) };
  const events = pace(readArchive(plan, range), opts.speed, opts.clock);
  const run = await runPipeline(events, opts.config, opts.out, (n) => opts.onProgress?.(n, plan.rows));
  const root = fs.statSync(opts.from).isDirectory() ? opts.from : path.dirname(opts.from);
  const sessionsOf = new Map<string, string[]>();
  for (const [s, files] of plan.sessions) for (const f of files) sessionsOf.set(f, [...(sessionsOf.get(f) ?? []), s]);
  const manifest: Manifest = {
    tapedeck: VERSION,
    command: 'replay',
    options: {
      speed: opts.speed, start: opts.startNs !== undefined ? nsToIso(opts.startNs) : null,
      end: opts.endNs !== undefined ? nsToIso(opts.endNs) : null, ...describeConfig(opts.config),
    },
    inputs: plan.files.map((f) => ({ file: path.relative(root, f) || path.basename(f), sessions: sessionsOf.get(f) ?? [] })),
    events: run.stats.events,
    first_recv: run.first !== undefined ? nsToIso(run.first) : null,
    last_recv: run.last !== undefined ? nsToIso(run.last) : null,
    stats: run.stats,
    tables: run.tables,
  };
  fs.writeFileSync(path.join(opts.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, elapsedMs: performance.now() - t0 };
}
