/**
 * `node --import tsx test/bench/record-profile.ts [rate, default 60k] [seconds, default 20]`:
 * `tapedeck record` under `node --cpu-prof` against `simulate --rate` (each its own process),
 * and the recorder's main-thread self time per stage: socket reads and ws framing, stamping
 * and the spool (SQLite), archive writing (Parquet encoding, ZSTD), frame decoding, the live
 * engine, metrics, GC, idle. Where the recorder's time goes at a flood, before optimising
 * it (issue 12: ≥ 100k frames/s, commit p99 ≤ 150 ms). TAPEDECK_PROFILE_FUNCTIONS=N also
 * lists the N functions with the most self time.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startCli } from '../helpers.ts';
import { selfTimeByFunction, selfTimeByStage, threadProfiles, type CpuProfile, type Stages } from './profile.ts';

/** The stages of a recording. */
const STAGES: Stages = [
  ['garbage collection', (fn) => fn === '(garbage collector)'],
  ['idle / waiting', (fn) => fn === '(idle)' || fn === '(program)'],
  ['socket reads + ws framing', (fn, url) => /node_modules\/ws\//.test(url) || /node:net|node:internal\/stream|stream_base/.test(url) || fn === 'onStreamRead'],
  ['spool (SQLite)', (_, url) => /recorder\/spool(-batch)?\.ts|better-sqlite3/.test(url)],
  ['archive write (Parquet, ZSTD)', (_, url) => /hyparquet-writer\/|storage\/(archive|parquet|codecs)\.ts|zstd|recorder\/roller/.test(url)],
  ['frame decoding', (_, url) => /src\/exchanges\/|src\/log\/time\.ts|src\/market\//.test(url)],
  ['engine', (_, url) => /src\/engine\/|strategies\//.test(url)],
  ['metrics (prom-client)', (_, url) => /prom-client|recorder\/metrics\.ts/.test(url)],
  ['stamping + connections', (_, url) => /recorder\/(record|connection|clock|commit-latency)\.ts/.test(url)],
  ['start-up (module loading, tsx, yargs)', (_, url) => /node_modules\/(tsx|yargs|esbuild|get-tsconfig)|node:internal\/modules|src\/cli\//.test(url)],
];

const rate = process.argv[2] ?? '60k';
const seconds = Number(process.argv[3] ?? 20);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-recprof-'));
const sim = startCli(['simulate', '--port', '0', '--rate', rate, '--seed', '3']);
try {
  const urls = await sim.waitFor(/binance: (\S+)[\s\S]*coinbase: (\S+)/);
  const profDir = path.join(tmp, 'prof');
  const rec = spawnSync(process.execPath, [
    '--cpu-prof', `--cpu-prof-dir=${profDir}`, path.join(ROOT, 'src/cli/tapedeck.mjs'),
    'record', '--exchanges', 'binance,coinbase', '--symbols', 'BTC-USD,ETH-USD', '--out', path.join(tmp, 'rec'), '--duration', `${seconds}s`,
    '--endpoint', `binance=${urls[1]}`, '--endpoint', `coinbase=${urls[2]}`, '--no-metrics',
  // Stages are named by source file: the sources (through tsx), not the CLI's bundle of them.
  ], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1', TAPEDECK_BUNDLE: '0' } });
  if (rec.status !== 0) throw new Error(`record failed: ${rec.stderr}`);
  process.stdout.write(rec.stdout);
  const { main } = threadProfiles(profDir);
  const profile = JSON.parse(fs.readFileSync(main, 'utf8')) as CpuProfile;
  const rows = selfTimeByStage(profile, STAGES);
  const total = rows.reduce((a, r) => a + r.ms, 0);
  console.log(`\nrecorder main thread at simulate --rate ${rate}, ${seconds} s: self time by stage (sampled ${(total / 1000).toFixed(2)} s)`);
  for (const r of rows.slice(0, 20)) console.log(`${r.stage.padEnd(44)} ${(r.ms / 1000).toFixed(2).padStart(6)} s ${(100 * r.ms / total).toFixed(1).padStart(5)} %`);
  const top = Number(process.env.TAPEDECK_PROFILE_FUNCTIONS ?? 0);
  if (top > 0) {
    console.log(`\nself time by function (top ${top})`);
    for (const f of selfTimeByFunction(profile).slice(0, top)) console.log(`${f.fn.slice(0, 72).padEnd(74)} ${(f.ms / 1000).toFixed(2)} s ${(100 * f.ms / total).toFixed(1).padStart(5)} %`);
  }
} finally {
  sim.child.kill('SIGINT');
  await sim.exited;
  fs.rmSync(tmp, { recursive: true, force: true });
}
