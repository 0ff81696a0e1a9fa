/**
 * The spool alone, in this process: `node --import tsx test/bench/spool-bench.ts [events,
 * default 600k]` commits the simulator's own frames (its seeded two-exchange market, as
 * `simulate --rate` sends them) to a real Spool in batches of 2,800 (50 ms at 56k frames/s),
 * the archive's cursor trailing 20 commits behind and pruned a slice a commit, as the
 * recorder does, and prints per event the commit's CPU, the commit's p50/p99 time and the
 * checkpoint's, the packed batches' compression, the file's size, and a read back (`after`,
 * as the Kafka forwarder reads). Side by side: the recorder's deferred checkpoints
 * (`checkpointIfDue` after the commit) and SQLite's own inside the commit that fills the WAL.
 * A section of `npm run bench` (TAPEDECK_BENCH_SKIP=spool leaves it out).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Spool } from '../../recorder/spool.ts';
import { MarketFeed } from '../../src/sim/feed.ts';
import { FrameEncoder } from '../../src/sim/frames.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { runAlone, type Row } from './timing.ts';

const BATCH = 2_800;
const TRAIL = 20;

/** `n` LogEvents of the simulator's frames, stamped 17 µs apart. */
function simulatorEvents(n: number): LogEvent[] {
  const feed = new MarketFeed({ seed: 3, startMs: 1_700_000_000_000, exchanges: ['binance', 'coinbase'], meanGapMs: 4_000 / 150_000 }, 50_000);
  const encoder = new FrameEncoder();
  const out: LogEvent[] = [];
  let nowUs = 1_700_000_000_000 * 1000;
  while (out.length < n) {
    nowUs += 10_000;
    for (const e of feed.due(nowUs)) {
      if (out.length === n) break;
      const i = out.length;
      out.push({ session: 'bench', ingestSeq: i, recvNs: 1_700_000_000_000_000_000n + BigInt(i) * 17_000n, exchange: e.exchange, conn: `${e.exchange}.0`, kind: 'frame', payload: encoder.encode(e), meta: '' });
    }
  }
  return out;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

export function benchSpool(row: Row, events = 600_000): void {
  const evs = simulatorEvents(events);
  const chars = evs.reduce((a, e) => a + e.payload.length, 0);
  row('frames committed', `${events.toLocaleString('en-US')} of the simulator's, ${(chars / events).toFixed(0)} characters each on average, ${BATCH} a commit`);
  for (const deferred of [true, false]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-spool-bench-'));
    try {
      const spool = new Spool(path.join(dir, 'bench.sqlite'), { exclusive: true, deferCheckpoints: deferred });
      spool.register('archive', 'bench');
      const commits: number[] = [];
      const upkeep: number[] = [];
      const cpu0 = process.cpuUsage();
      for (let c = 0; c * BATCH < evs.length; c++) {
        for (const e of evs.slice(c * BATCH, (c + 1) * BATCH)) spool.add(e);
        const t0 = performance.now();
        spool.commit();
        const t1 = performance.now();
        if (c >= TRAIL) spool.setCursor('archive', 'bench', (c - TRAIL + 1) * BATCH - 1);
        spool.pruneSome('bench', ['archive'], 20_000);
        spool.checkpointIfDue();
        commits.push(t1 - t0);
        upkeep.push(performance.now() - t1);
      }
      const cpu = process.cpuUsage(cpu0);
      const size = ['bench.sqlite', 'bench.sqlite-wal'].reduce((a, f) => a + (fs.existsSync(path.join(dir, f)) ? fs.statSync(path.join(dir, f)).size : 0), 0);
      const t2 = performance.now();
      let read = 0;
      for (let from = spool.cursor('archive', 'bench'); ;) {
        const got = spool.after('bench', from, 5_000);
        if (got.length === 0) break;
        read += got.length;
        from = got.at(-1)!.ingestSeq;
      }
      const readUs = ((performance.now() - t2) * 1000) / read;
      spool.close();
      commits.sort((a, b) => a - b);
      upkeep.sort((a, b) => a - b);
      const label = deferred ? 'deferred checkpoints (the recorder\'s)' : 'SQLite\'s checkpoints, inside the commit';
      row(`spool, ${label}`, `${((cpu.user + cpu.system) / events).toFixed(2)} µs CPU an event (commit, prune, checkpoint)`);
      row('  commit', `p50 ${pct(commits, 0.5).toFixed(1)} ms, p99 ${pct(commits, 0.99).toFixed(1)} ms, max ${commits.at(-1)!.toFixed(1)} ms`);
      row('  prune + checkpoint after it', `p50 ${pct(upkeep, 0.5).toFixed(1)} ms, p99 ${pct(upkeep, 0.99).toFixed(1)} ms, max ${upkeep.at(-1)!.toFixed(1)} ms`);
      row('  spool file + WAL at the end', `${(size / 2 ** 20).toFixed(1)} MiB for the ${TRAIL} commits kept (${((TRAIL * BATCH * (chars / events)) / 2 ** 20).toFixed(1)} MiB of frames)`);
      row('  read back (after, 5,000 at a time)', `${readUs.toFixed(2)} µs an event`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (runAlone(import.meta.url)) {
  benchSpool((label, value) => console.log(`${label.padEnd(56)} ${value}`), Number(process.argv[2] ?? 600_000));
}
