/**
 * The recorder on a disk that fills up or cannot be written (issue 10 item 11): one line
 * saying what is full and what was kept, a clean stop, everything committed still readable
 * (and recovered by the next run once there is room), a non-zero exit; a read-only --out
 * gets its true reason. Uses small tmpfs mounts, which need root: skipped, with the reason,
 * where mounting is not allowed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planArchive, readArchive } from '../../replayer/read.ts';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { listArchiveFiles } from '../../src/storage/archive-read.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { runCli, startCli, tmpDir } from '../helpers.ts';

function tryMount(dir: string, opts: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs here (${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()})`;
  }
}

const probe = tmpDir();
const cannotMount = tryMount(probe, 'size=64k');
if (cannotMount === undefined) execFileSync('umount', [probe]);
else console.warn(`skipping disk-full and read-only tests: ${cannotMount}`);

const mounted: string[] = [];
function mount(opts: string): string {
  const dir = tmpDir();
  const why = tryMount(dir, opts);
  if (why) throw new Error(why);
  mounted.push(dir);
  return dir;
}

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 41, meanGapMs: 2 });
});
afterAll(async () => {
  await sim.close();
  for (const d of mounted) {
    try {
      execFileSync('umount', ['-l', d]);
    } catch {
      // already gone
    }
  }
});

const endpoints = (): string[] => ['--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`];

/** Runs the CLI without blocking this process, where the simulator serves (runCli would stall it). */
async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = startCli(args);
  const code = await c.exited;
  return { code, stdout: c.stdout, stderr: c.stderr };
}

describe.skipIf(cannotMount !== undefined)('disk faults', () => {
  it('stops cleanly with one line when the disk fills, keeps what it committed, and the next run recovers it', async () => {
    const dir = mount('size=1m');
    const rec = startCli(['record', '--out', dir, '--metrics-port', '0', ...endpoints()]);
    const code = await Promise.race([rec.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 60_000))]);
    if (code === 'still running') rec.child.kill('SIGKILL');
    expect(code, `the recorder stops by itself on a full disk; stderr: ${rec.stderr}`).toBe(1);
    expect(rec.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    const last = rec.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^tapedeck: disk full/);
    expect(last, 'it says what it kept').toMatch(/kept \d+ committed events/);

    // Room again (a reader of a WAL database needs a few KiB for its index, even read-only).
    execFileSync('mount', ['-o', 'remount,size=64m', dir]);
    const spools = fs.readdirSync(path.join(dir, 'spool')).filter((f) => f.endsWith('.spool'));
    expect(spools, 'the spool is kept').toHaveLength(1);
    const db = new Database(path.join(dir, 'spool', spools[0]!), { readonly: true });
    // One row per commit (recorder/spool-batch.ts) of consecutive ingest_seqs; those up to a
    // session's `pruned:` mark are gone.
    const kept = Number((db.prepare(`SELECT coalesce(sum(min(n, last_seq - coalesce(
      (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'pruned:' || b.session), -1))), 0) AS n FROM batches b`).get() as { n: number }).n);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    expect(kept).toBeGreaterThan(100);
    expect(last).toContain(`kept ${kept} committed events`);

    // The next run recovers every kept event into the archive.
    const again = await run(['record', '--out', dir, '--duration', '1s', '--metrics-port', '0', ...endpoints()]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`recovered ${kept} events from 1 unfinished spool`));
    for (const f of listArchiveFiles(path.join(dir, 'raw'))) expect((await readParquet(f)).length, `${f} reads back`).toBeGreaterThan(0);
    let n = 0;
    for await (const ev of readArchive(await planArchive(path.join(dir, 'raw')))) if (ev.session !== /as (\S+) →/.exec(again.stdout)![1]) n++;
    expect(n, 'every committed event of the full-disk session is in the archive').toBe(kept);
  }, 120_000);

  it.each([
    ['an existing read-only --out', (ro: string) => ro],
    ['a --out to create under a read-only directory', (ro: string) => path.join(ro, 'data', 'x')],
  ])('names the read-only file system for %s', (_what, out) => {
    const ro = mount('size=64k,ro');
    const r = runCli(['record', '--out', out(ro), '--duration', '1s', '--metrics-port', '0', ...endpoints()]);
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tapedeck: cannot write to --out .*: read-only file system/);
  });
});
