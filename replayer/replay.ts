/**
 * `tapedeck replay`: read → merge → pace → pipeline → output tables + manifest.
 * The engine cannot tell a replay from a live run; only the source and the pace differ.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Engine } from '../src/engine/engine.ts';
import type { EngineConfig } from '../src/engine/config.ts';
import { TableCollector } from '../src/engine/rows.ts';
import { nsToIso } from '../src/log/time.ts';
import { writeRun, type Manifest } from '../src/storage/run.ts';
import { pace, type PaceClock, type Speed } from './pace.ts';
import { planArchive, readArchive } from './read.ts';

export interface ReplayOptions {
  readonly from: string;
  readonly out: string;
  readonly speed: Speed;
  readonly startNs?: bigint;
  readonly endNs?: bigint;
  /** Replay only these sessions (verify replays exactly what a live run saw). */
  readonly sessions?: readonly string[];
  readonly config: EngineConfig;
  /** Called every few thousand events with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  readonly clock?: PaceClock;
}

export interface ReplayResult {
  readonly manifest: Manifest;
  readonly elapsedMs: number;
}

export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  const t0 = performance.now();
  const plan = await planArchive(opts.from, opts.sessions);
  const range = { ...(opts.startNs !== undefined ? { startNs: opts.startNs } : {}), ...(opts.endNs !== undefined ? { endNs: opts.endNs } : {}) };
  const collector = new TableCollector();
  const engine = new Engine(opts.config, collector);
  let first: bigint | undefined;
  let last: bigint | undefined;
  for await (const ev of pace(readArchive(plan, range), opts.speed, opts.clock)) {
    first ??= ev.recvNs;
    last = ev.recvNs;
    engine.onLog(ev);
    if (opts.onProgress && engine.stats.events % 4096 === 0) opts.onProgress(engine.stats.events, plan.rows);
  }
  engine.finish();
  const root = fs.statSync(opts.from).isDirectory() ? opts.from : path.dirname(opts.from);
  const sessionsOf = new Map<string, string[]>();
  for (const [s, files] of plan.sessions) for (const f of files) sessionsOf.set(f, [...(sessionsOf.get(f) ?? []), s]);
  const manifest = writeRun(opts.out, collector.tables, engine.stats, opts.config, {
    command: 'replay',
    sessions: [...plan.sessions.keys()].sort(),
    options: {
      speed: opts.speed, start: opts.startNs !== undefined ? nsToIso(opts.startNs) : null,
      end: opts.endNs !== undefined ? nsToIso(opts.endNs) : null,
    },
    inputs: [...sessionsOf.keys()].sort().map((f) => ({ file: path.relative(root, f) || path.basename(f), sessions: sessionsOf.get(f)! })),
    firstNs: first,
    lastNs: last,
  });
  return { manifest, elapsedMs: performance.now() - t0 };
}
