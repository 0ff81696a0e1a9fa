/**
 * What the exchange redesign and the new exchanges cost a replay (issue 11: "adding the
 * three exchanges leaves replay throughput on the Binance/Coinbase demo within 5 %"): the
 * same Binance/Coinbase demo archive (600 simulated minutes, ~1M events, made by the
 * baseline's own `demo`) replayed by tapedeck as it is and as it was before issue 11
 * (BEFORE_EXCHANGES, checked out into a temporary worktree that shares node_modules).
 * Whole CLI processes, both through tsx (TAPEDECK_BUNDLE=0: the baseline predates the CLI
 * bundle, whose start-up gain is not the engine's), alternating, medians of 5, wall and CPU
 * time; the two replays' digests must be equal. The baseline also lacks every later speed-up
 * (issue 9), so a ratio above 1 bounds the exchanges' cost only from above: it says the
 * replay a user gets did not slow down, not that the redesign is free. A section of `npm run
 * bench` (TAPEDECK_BENCH_SKIP=exchanges leaves it out); alone:
 * `node --import tsx test/bench/exchanges-cost.ts`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readManifest } from '../../src/storage/run.ts';
import { ROOT } from '../helpers.ts';
import { runAlone, runCli, type CliRun, type Row } from './timing.ts';

/** The last commit before issue 11's exchange redesign (2adafb3) and its warnings for undecoded frames (d3fe038). */
export const BEFORE_EXCHANGES = 'c8f3cecdbae8f2f1d1b150fa426b11f56a32947b';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** One `tapedeck` process of the tree at `root`, through tsx (see above). */
const run = (root: string, args: string[], tmp: string): CliRun => runCli(args, tmp, { root, env: { TAPEDECK_BUNDLE: '0' } });

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchExchangesCost(row: Row, tmp: string, runs = 5): Promise<void> {
  const base = path.join(tmp, 'before-exchanges');
  const git = (...args: string[]): void => {
    const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench: git ${args.join(' ')}: ${r.stderr}`);
  };
  git('worktree', 'add', '--detach', base, BEFORE_EXCHANGES);
  try {
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(base, 'node_modules'));
    const archive = path.join(tmp, 'exchanges-demo');
    run(base, ['demo', '--minutes', '600', '--out', archive, '--no-replay'], tmp);
    const times: Record<'now' | 'before', CliRun[]> = { now: [], before: [] };
    let events = 0;
    for (let i = 0; i < runs; i++) {
      for (const [who, root] of [['before', base], ['now', ROOT]] as const) {
        const out = path.join(tmp, `exchanges-${who}`);
        fs.rmSync(out, { recursive: true, force: true });
        times[who].push(run(root, ['replay', '--from', path.join(archive, 'raw'), '--out', out], tmp));
      }
      const [a, b] = [readManifest(path.join(tmp, 'exchanges-before')), readManifest(path.join(tmp, 'exchanges-now'))];
      events = b.events;
      const digests = (m: typeof a): string => JSON.stringify(Object.entries(m.tables).map(([t, r]) => [t, r.sha256]));
      if (digests(a) !== digests(b)) throw new Error('bench: the replay before issue 11 and now differ on the Binance/Coinbase demo');
    }
    const [wNow, wBefore] = [median(times.now.map((t) => t.ms)), median(times.before.map((t) => t.ms))];
    const [cNow, cBefore] = [median(times.now.map((t) => t.cpuMs)), median(times.before.map((t) => t.cpuMs))];
    row(`replay of the Binance/Coinbase demo (${fmt(events)} events), now`, `${fmt(events / (wNow / 1000))} events/s (CPU ${(cNow / 1000).toFixed(2)} s)`);
    row(`  the same before issue 11 (${BEFORE_EXCHANGES.slice(0, 7)})`, `${fmt(events / (wBefore / 1000))} events/s (CPU ${(cBefore / 1000).toFixed(2)} s)`);
    row('  now ÷ before (goal ≥ 0.95)', `${(wBefore / wNow).toFixed(2)}× by wall time, ${(cBefore / cNow).toFixed(2)}× by CPU time; digests equal`);
  } finally {
    git('worktree', 'remove', '--force', base);
  }
}

if (runAlone(import.meta.url)) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-exbench-'));
  try {
    await benchExchangesCost((label, value) => console.log(`${label.padEnd(56)} ${value}`), tmp, Number(process.argv[2] ?? 5));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
