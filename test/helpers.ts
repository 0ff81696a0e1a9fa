/** Shared test helpers: real fixtures through TAPEDECK_REAL_FIXTURES, temp dirs, the CLI. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { LogEvent } from '../src/log/event.ts';
import { listArchiveFiles, readArchiveFile } from '../src/storage/archive-read.ts';
import { planArchive, readArchive } from '../replayer/read.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The real recordings folder. CI sets TAPEDECK_REAL_FIXTURES; a developer beside
 * shared/ gets ../shared/fixtures/real. A set-but-wrong variable is an error, not a skip.
 */
export function realFixturesDir(): string | undefined {
  const env = process.env.TAPEDECK_REAL_FIXTURES;
  if (env) {
    if (!fs.existsSync(env)) throw new Error(`TAPEDECK_REAL_FIXTURES=${env} does not exist`);
    return path.resolve(env);
  }
  const guess = path.resolve(ROOT, '../shared/fixtures/real');
  return fs.existsSync(guess) ? guess : undefined;
}

export const REAL = realFixturesDir();

export function real(rel: string): string {
  if (!REAL) throw new Error('real fixtures not available: set TAPEDECK_REAL_FIXTURES');
  return path.join(REAL, rel);
}

export function readLines(file: string): string[] {
  const buf = fs.readFileSync(file);
  const text = file.endsWith('.gz') ? zlib.gunzipSync(buf).toString('utf8') : buf.toString('utf8');
  return text.split('\n').filter((l) => l !== '');
}

export function tmpDir(prefix = 'tapedeck-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface CliResult { code: number; stdout: string; stderr: string }

export function runCli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'src/cli/tapedeck.mjs'), ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1', ...env }, timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface RunningCli {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
  /** Resolves with the first stdout/stderr match of `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts the CLI in the background (for long-running commands like record). */
export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [path.join(ROOT, 'src/cli/tapedeck.mjs'), ...args], { cwd: ROOT, env: { ...process.env, CI: '1', ...env } });
  const r: RunningCli = {
    child, stdout: '', stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const poll = (): void => {
          const m = re.exec(r.stdout) ?? re.exec(r.stderr);
          if (m) return resolve(m);
          if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${re}; stderr: ${r.stderr}`));
          setTimeout(poll, 50);
        };
        poll();
      });
    },
  };
  child.stdout!.on('data', (d) => (r.stdout += String(d)));
  child.stderr!.on('data', (d) => (r.stderr += String(d)));
  return r;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * What is left in `<out>/spool` but the --out-wide recovery lock: spools, their WAL and shm,
 * `.pid` files, spools set aside (for "nothing is left": a spool's side file counts too).
 */
export function leftInSpool(out: string): string[] {
  const dir = path.join(out, 'spool');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.startsWith('recovery.lock')).sort() : [];
}

/** Every LogEvent of an archive, whole, in ingest order (for tests on small archives). */
export async function readArchiveEvents(root: string): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  for (const f of listArchiveFiles(root)) {
    for (const ev of await readArchiveFile(f)) out.push(ev);
  }
  return out.sort((a, b) => a.ingestSeq - b.ingestSeq);
}

/** Every LogEvent of an archive in the order a replay folds them (per session by ingest_seq, sessions merged by time). */
export async function readReplayOrder(root: string): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  for await (const ev of readArchive(await planArchive(root))) out.push(ev);
  return out;
}

/** Every path below `dir` (relative), or none when it does not exist. */
export function filesUnder(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String) : [];
}

/** A live process's resident set from /proc, MiB; 0 once it has exited. */
export function rssMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return 0; // the process has just exited
  }
}
