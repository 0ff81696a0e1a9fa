import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Every bench section, run in the bench or alone, measures replays that decode their frames:
 * the decoded-event cache (replayer/decode-cache.ts) is off unless a row says it reads it
 * (bench.ts keeps those caches in a folder of its own).
 */
process.env.TAPEDECK_DECODE_CACHE = 'off';

/** What the bench sections share: how a row is printed, and the median wall time of a few runs. */
export type Row = (label: string, value: string) => void;

export async function medianMs(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** Whether the module at `moduleUrl` is the script node was started with (run alone), not one bench.ts imported. */
export function runAlone(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && moduleUrl === pathToFileURL(path.resolve(process.argv[1])).href;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface CliRun {
  readonly ms: number;
  /** The process's own peak RSS (KiB) and CPU time, all its threads (ms), from rss-probe.mjs. */
  readonly rssKiB: number;
  readonly cpuMs: number;
  readonly stdout: string;
}

/**
 * One `tapedeck` process as a user runs it (the tree at `root`, the project's by default):
 * its wall time, peak RSS and CPU time; `cpuProf` writes a CPU profile there, from the
 * sources (a profile names stages by source file: the CLI's bundle would name them by chunk).
 */
export function runCli(args: readonly string[], tmp: string, opts: { root?: string; cpuProf?: string; env?: Record<string, string> } = {}): CliRun {
  const root = opts.root ?? path.resolve(HERE, '../..');
  const out = path.join(tmp, `probe-${process.hrtime.bigint()}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [
    '--import', path.join(HERE, 'rss-probe.mjs'),
    ...(opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`] : []),
    path.join(root, 'src/cli/tapedeck.mjs'), ...args,
  ], {
    cwd: root, encoding: 'utf8',
    env: { ...process.env, CI: '1', TAPEDECK_RSS_OUT: `${out}.rss`, TAPEDECK_CPU_OUT: `${out}.cpu`, ...(opts.cpuProf ? { TAPEDECK_BUNDLE: '0' } : {}), ...opts.env },
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`tapedeck ${args.join(' ')}${opts.root ? ` in ${root}` : ''} failed: ${r.stderr}`);
  return { ms, rssKiB: Number(fs.readFileSync(`${out}.rss`, 'utf8')), cpuMs: Number(fs.readFileSync(`${out}.cpu`, 'utf8')), stdout: r.stdout };
}
