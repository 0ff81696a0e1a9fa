/**
 * Import throughput on the real BTCUSDT hftbacktest session (two gzip files, 99,574 lines),
 * or on the files given as arguments:
 *
 *   node --import tsx test/bench/import-profile.ts [files…] [--format cryptofeed] [--repeat N]
 *
 * prints lines/s, wall and CPU time per import (N imports: steadier figures) and, on Linux,
 * each thread's CPU time (thread-cpu.ts: what a sampled profile cannot tell on a loaded
 * machine, where waiting for a core shows as time in a function); `--thread 0`
 * writes the archive in line instead of on the writer thread; `--scale N` imports the
 * session N times over (one temp file, each copy shifted past the previous one in time:
 * `--scale 10` is ~1M lines), for a figure at scale. With
 * `--stages` it runs itself again under `node --cpu-prof` and prints, for the main thread
 * and then the archive writer thread (when it ran), the self time per stage of the import
 * (reading and splitting lines, parsing them, the decode census, the archive writer,
 * Parquet encoding, ZSTD, GC), then the functions with the most self time;
 * TAPEDECK_KEEP_PROFILE=<file> keeps the main thread's .cpuprofile (Chrome DevTools, speedscope).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importRecordings, type ImportFormat } from '../../src/importers/import.ts';
import { scaledSession } from './scaled-session.ts';
import { selfTimeByFunction, selfTimeByStage, threadProfiles, type CpuProfile, type Stages } from './profile.ts';
import { startThreadCpu, type ThreadTimes } from './thread-cpu.ts';

/** The stages of an import, by where a function lives (first match wins). */
const IMPORT_STAGES: Stages = [
  ['garbage collection', (fn) => fn === '(garbage collector)'],
  ['idle / waiting (gunzip runs on the libuv pool)', (fn) => fn === '(idle)' || fn === '(program)'],
  ['ZSTD compress (wasm)', (fn, url) => fn.startsWith('wasm-function') || /zstd-wasm|^wasm:/.test(url)],
  ['Parquet encode (hyparquet-writer)', (_, url) => /hyparquet-writer\//.test(url)],
  ['UTF-8 encode', (fn, url) => /internal\/encoding/.test(url) || fn === 'encodeUtf8String' || fn === 'encodeInto'],
  ['archive writer (rows → columns, files)', (_, url) => /storage\/archive\.ts|write-thread\.worker|importers\/row-wire\.ts/.test(url)],
  // The scanner certifies a frame with a regular expression (src/exchanges/scan.ts): a native frame of its own.
  ['decode census (adapters)', (fn, url) => /src\/exchanges\/|src\/market\/|src\/log\//.test(url) || fn.startsWith('RegExp: ^\\{')],
  ['line parsing', (_, url) => /importers\/formats\.ts/.test(url)],
  ['read + split lines, import loop', (_, url) => /importers\/import\.ts|node:buffer|internal\/buffer|zlib|internal\/streams/.test(url)],
  ['start-up (module loading, tsx)', (_, url) => /node_modules\/(tsx|esbuild|get-tsconfig)|node:internal\/modules/.test(url)],
];

const args = process.argv.slice(2);
const flag = (name: string): boolean => {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = args[i + 1]!;
  args.splice(i, 2);
  return v;
};
const stages = flag('stages');
const format = opt('format', 'hftbacktest') as ImportFormat;
const repeat = Number(opt('repeat', '1'));
const thread = opt('thread', '1') !== '0';
const scale = Number(opt('scale', '1'));
const real = process.env.TAPEDECK_REAL_FIXTURES ?? '/work/shared/fixtures/real';
const session = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => path.join(real, 'binance/hftbacktest', f));
// The scaled input is made here, not in the profiled run: its making is no part of an import.
const scaledDir = scale > 1 && args.length === 0 ? fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-import-scaled-')) : undefined;
const files = args.length > 0 ? args : scaledDir !== undefined ? [await scaledSession(session, scale, scaledDir)] : session;

try {
  if (stages) profileStages();
  else await measure();
} finally {
  if (scaledDir !== undefined) fs.rmSync(scaledDir, { recursive: true, force: true });
}

async function measure(): Promise<void> {
  for (let r = 0; r < repeat; r++) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-import-bench-'));
    const c0 = process.cpuUsage();
    const threads = startThreadCpu();
    const t0 = process.hrtime.bigint();
    const sessions = await importRecordings(files, { format, out, writeThread: thread });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    const per = threads?.stop();
    const events = sessions.reduce((n, x) => n + x.events, 0);
    let bytes = 0;
    for (const x of sessions) for (const f of x.files) bytes += fs.statSync(f).size;
    console.log(`import ${format}${thread ? '' : ' (in line)'}: ${events} events in ${s.toFixed(2)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s) = ${Math.round(events / s).toLocaleString('en')} lines/s; archive ${(bytes / 1e6).toFixed(2)} MB`);
    if (per !== undefined) console.log(`  CPU by thread: ${threadLine(per)}`);
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** The main thread, the writer thread (the busiest other, when it runs) and the rest (V8's background threads: compiler and GC; libuv's pool: gunzip). */
function threadLine({ main, others }: ThreadTimes): string {
  const [first = 0, ...rest] = others;
  const sum = (xs: number[]): string => xs.reduce((n, x) => n + x, 0).toFixed(2);
  return thread
    ? `main ${main.toFixed(2)} s, writer ${first.toFixed(2)} s, the other ${rest.length} threads ${sum(rest)} s`
    : `main ${main.toFixed(2)} s, the other ${others.length} threads ${sum(others)} s`;
}

function profileStages(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-import-prof-'));
  try {
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', self, '--format', format, '--repeat', String(repeat), '--thread', thread ? '1' : '0', ...files], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) process.exit(r.status ?? 1);
    const { main, workers } = threadProfiles(dir);
    const read = (f: string): CpuProfile => JSON.parse(fs.readFileSync(f, 'utf8')) as CpuProfile;
    printStages('main thread', read(main));
    // The writer thread is the busiest worker (the others are the TypeScript loader's, mostly idle).
    const busy = (p: CpuProfile): number => selfTimeByStage(p, IMPORT_STAGES).filter((x) => !x.stage.startsWith('idle')).reduce((n, x) => n + x.ms, 0);
    const writer = workers.map(read).sort((a, b) => busy(b) - busy(a))[0];
    if (writer !== undefined && thread) printStages('archive writer thread', writer);
    if (process.env.TAPEDECK_KEEP_PROFILE) fs.copyFileSync(main, path.resolve(process.env.TAPEDECK_KEEP_PROFILE));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function printStages(thread: string, profile: CpuProfile): void {
  const rows = selfTimeByStage(profile, IMPORT_STAGES);
  const total = rows.reduce((n, x) => n + x.ms, 0);
  const line = (name: string, ms: number): string => `${name.slice(0, 70).padEnd(72)} ${(ms / 1000).toFixed(2).padStart(6)} s ${((100 * ms) / total).toFixed(1).padStart(5)} %`;
  console.log(`\n${thread}: self time by stage (sampled ${(total / 1000).toFixed(2)} s)`);
  for (const x of rows.slice(0, 16)) console.log(line(x.stage, x.ms));
  console.log(`\n${thread}: self time by function (top 15)`);
  for (const x of selfTimeByFunction(profile).slice(0, 15)) console.log(line(x.fn, x.ms));
}
