/**
 * The recorder process's own RSS at a saturating rate: `tapedeck record` (a process of its
 * own) against the simulator at --mean-gap 0.04, RSS read from /proc every 5 s and every
 * 250 ms for the peak, through the recording and its stop (the last roll); once with the
 * archive written on the ingest thread (the default) and once on a worker thread
 * (TAPEDECK_ROLL_THREAD=1). A section of `npm run bench` (TAPEDECK_BENCH_SKIP=recorder
 * leaves it out); alone: `node --import tsx test/bench/recorder-memory.ts [seconds]`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runAlone, type Row } from './timing.ts';
import { readManifest } from '../../src/storage/run.ts';
import { startCli } from '../helpers.ts';


function rssMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return 0;
  }
}

export async function benchRecorderMemory(row: Row, tmp: string, seconds = 60): Promise<void> {
  const modes = [['archive on the ingest thread (default)', '0'], ['archive on a worker thread', '1']] as const;
  for (const [label, thread] of modes.filter(([, t]) => (process.env.TAPEDECK_BENCH_ROLL_THREAD ?? t) === t)) {
    const sim = startCli(['simulate', '--port', '0', '--mean-gap', '0.04', '--seed', '3']);
    try {
      const urls = await sim.waitFor(/binance: (\S+)[\s\S]*coinbase: (\S+)/);
      const out = path.join(tmp, `rec-mem-${thread}`);
      const rec = startCli([
        'record', '--exchanges', 'binance,coinbase', '--symbols', 'BTC-USD,ETH-USD', '--out', out, '--duration', `${seconds}s`,
        '--endpoint', `binance=${urls[1]}`, '--endpoint', `coinbase=${urls[2]}`, '--no-metrics',
      ], { TAPEDECK_ROLL_THREAD: thread });
      const t0 = performance.now();
      const every5: number[] = [];
      let peak = 0;
      let stoppedAt = 0;
      const fine = setInterval(() => {
        const r = rssMiB(rec.child.pid!);
        peak = Math.max(peak, r);
        if (stoppedAt === 0 && performance.now() - t0 >= seconds * 1000) stoppedAt = performance.now();
      }, 250);
      const coarse = setInterval(() => every5.push(rssMiB(rec.child.pid!)), 5_000);
      const code = await rec.exited;
      clearInterval(fine);
      clearInterval(coarse);
      if (code !== 0) throw new Error(`bench: record failed: ${rec.stderr}`);
      const outDir = /live outputs → (\S+):/.exec(rec.stdout)![1]!;
      const frames = readManifest(outDir).stats.byKind.frame ?? 0;
      row(`recorder RSS, ${seconds} s saturated, ${label}`, `max ${Math.round(peak)} MiB (goal ≤ 300: ${(peak / 300).toFixed(2)}×); every 5 s: ${every5.filter((r) => r > 0).map(Math.round).join(' ')} MiB`);
      row('  at the rate', `${Math.round(frames / seconds).toLocaleString('en-US')} frames/s; stop (last roll, outputs) took ${((performance.now() - (stoppedAt || performance.now())) / 1000).toFixed(1)} s`);
      fs.rmSync(out, { recursive: true, force: true });
    } finally {
      sim.child.kill('SIGINT');
      await sim.exited;
    }
  }
}

if (runAlone(import.meta.url)) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-recmem-'));
  try {
    await benchRecorderMemory((label, value) => console.log(`${label.padEnd(56)} ${value}`), tmp, Number(process.argv[2] ?? 60));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
