/**
 * `npm run profile -- <archive> [replay options…]`: runs `tapedeck replay --speed max` under
 * `node --cpu-prof` and prints self time per stage (Parquet read and decompression, merge,
 * frame decoding, engine fold, output rows, Parquet write, digests, GC, start-up), so an
 * optimisation starts from where the time goes. The stage of a function is decided by the
 * file it lives in; what is not matched is listed under its own name.
 * TAPEDECK_PROFILE_FUNCTIONS=N also lists the N functions with the most self time.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Stages by where a function lives: the first whose test matches names it. */
export type Stages = readonly [string, (fn: string, url: string) => boolean][];

/** The stages of a replay. */
const STAGES: Stages = [
  ['garbage collection', (fn) => fn === '(garbage collector)'],
  ['idle / waiting', (fn) => fn === '(idle)' || fn === '(program)'],
  ['JSON.parse', (fn) => fn === 'parse' || fn === 'JSONParse'],
  ['Parquet read: decompress', (fn, url) => /hyparquet\/src\/snappy|fzstd|zlib|codecs/.test(url) || /uncompress|decompress/i.test(fn)],
  ['Parquet read: decode', (_, url) => /hyparquet\/src\//.test(url)],
  ['Parquet write', (_, url) => /hyparquet-writer\//.test(url) || /storage\/parquet\.ts/.test(url)],
  ['digests + output rows', (_, url) => /storage\/(outputs|run)\.ts|node:crypto/.test(url)],
  ['archive rows → LogEvents', (_, url) => /storage\/archive-read\.ts/.test(url)],
  ['merge + pace', (_, url) => /replayer\/(merge|read|pace)\.ts/.test(url)],
  ['frame decoding', (_, url) => /src\/exchanges\/|src\/log\/time\.ts|src\/market\//.test(url)],
  ['engine: candles', (_, url) => /engine\/candles\.ts/.test(url)],
  ['engine: arbitrage', (_, url) => /engine\/arbitrage\.ts/.test(url)],
  ['engine: indicators', (_, url) => /engine\/indicators\.ts/.test(url)],
  ['engine: fold + clock', (_, url) => /src\/engine\/|strategies\//.test(url)],
  ['replay loop', (_, url) => /replayer\/replay\.ts/.test(url)],
  ['start-up (module loading, tsx, yargs)', (_, url) => /node_modules\/(tsx|yargs|esbuild|get-tsconfig)|node:internal\/modules|src\/cli\//.test(url)],
];

function stageOf(fn: string, url: string, stages: Stages): string {
  for (const [name, match] of stages) if (match(fn, url)) return name;
  return url === '' ? `(native) ${fn || '(anonymous)'}` : `other: ${path.basename(url)}`;
}

export function selfTimeByStage(profile: CpuProfile, stages: Stages = STAGES): { stage: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const stage = stageOf(node.callFrame.functionName, node.callFrame.url, stages);
    ms.set(stage, (ms.get(stage) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return [...ms].map(([stage, t]) => ({ stage, ms: t })).sort((a, b) => b.ms - a.ms);
}

/**
 * The profiles `--cpu-prof` wrote into `dir`, main thread first: one file per thread, named
 * CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile, the main thread's id being 0.
 */
export function threadProfiles(dir: string): { main: string; workers: string[] } {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const tid = (f: string): number => Number(f.split('.').at(-3));
  const main = files.find((f) => tid(f) === 0);
  if (main === undefined) throw new Error(`no main-thread .cpuprofile in ${dir}`);
  return { main: path.join(dir, main), workers: files.filter((f) => tid(f) !== 0).map((f) => path.join(dir, f)) };
}

/** Self time per function (name, file and line), for looking inside a stage. */
export function selfTimeByFunction(profile: CpuProfile): { fn: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const { functionName, url, lineNumber } = byId.get(profile.samples[i]!)!.callFrame;
    const key = url === '' ? `(native) ${functionName.slice(0, 60)}` : `${functionName || '(anonymous)'} ${path.basename(url)}:${lineNumber + 1}`;
    ms.set(key, (ms.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return [...ms].map(([fn, t]) => ({ fn, ms: t })).sort((a, b) => b.ms - a.ms);
}

async function main(): Promise<void> {
  const [archive, ...rest] = process.argv.slice(2);
  if (!archive) {
    console.error('usage: npm run profile -- <archive> [replay options…]');
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-prof-'));
  try {
    const out = path.join(dir, 'out');
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, path.join(ROOT, 'src/cli/tapedeck.mjs'), 'replay', '--from', archive, '--out', out, '--speed', 'max', ...rest], {
      stdio: ['ignore', 'inherit', 'inherit'],
      // Stages are named by source file: run the sources (through tsx), not the CLI's bundle of them.
      // A replay that decodes, unless TAPEDECK_DECODE_CACHE names a cache to profile a replay that reads one.
      env: { TAPEDECK_DECODE_CACHE: 'off', ...process.env, TAPEDECK_BUNDLE: '0' },
    });
    const wallMs = performance.now() - t0;
    if (r.status !== 0) process.exit(r.status ?? 1);
    const { main: file, workers } = threadProfiles(dir);
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    const rows = selfTimeByStage(profile);
    const total = rows.reduce((n, r) => n + r.ms, 0);
    console.log(`\nmain thread: self time by stage (process wall ${(wallMs / 1000).toFixed(2)} s, sampled ${(total / 1000).toFixed(2)} s)`);
    for (const { stage, ms } of rows.slice(0, 25)) console.log(`${stage.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(7)} s ${((100 * ms) / total).toFixed(1).padStart(5)} %`);
    for (const w of workers) {
      const wr = selfTimeByStage(JSON.parse(fs.readFileSync(w, 'utf8')) as CpuProfile);
      const busy = wr.filter((r) => r.stage !== 'idle / waiting');
      const wt = wr.reduce((n, r) => n + r.ms, 0);
      console.log(`\nworker thread ${path.basename(w)}: busy ${(busy.reduce((n, r) => n + r.ms, 0) / 1000).toFixed(2)} s of ${(wt / 1000).toFixed(2)} s sampled`);
      for (const { stage, ms } of busy.slice(0, 8)) console.log(`${stage.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(7)} s ${((100 * ms) / wt).toFixed(1).padStart(5)} %`);
    }
    const topFunctions = Number(process.env.TAPEDECK_PROFILE_FUNCTIONS ?? 0);
    if (topFunctions > 0) {
      console.log(`\nself time by function (top ${topFunctions})`);
      for (const { fn, ms } of selfTimeByFunction(profile).slice(0, topFunctions)) console.log(`${fn.slice(0, 70).padEnd(72)} ${(ms / 1000).toFixed(2).padStart(7)} s ${((100 * ms) / total).toFixed(1).padStart(5)} %`);
    }
    if (process.env.TAPEDECK_KEEP_PROFILE) {
      const keep = path.resolve(process.env.TAPEDECK_KEEP_PROFILE);
      fs.copyFileSync(file, keep);
      console.log(`profile kept at ${keep} (open it in Chrome DevTools)`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Run as a script (npm run profile); the bench imports selfTimeByStage only.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
