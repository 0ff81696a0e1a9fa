/**
 * Fault paths of the recorder, against the simulator over loopback:
 * - kill -9 mid-stream, ten times over, then a clean run: the archive holds every frame the
 *   simulator sent up to each run's last spool commit before its kill, none twice, and every
 *   Parquet file reads back;
 * - malformed frames, unknown message types, a stalled connection and a refused
 *   connection leave the recorder running, and each is counted in /metrics.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planArchive, readArchive } from '../../replayer/read.ts';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { listArchiveFiles } from '../../src/storage/archive-read.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { leftInSpool, sleep, startCli, tmpDir } from '../helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 11, keepSent: true, meanGapMs: 100 });
});
afterAll(async () => {
  await sim.close();
});

const endpoints = (): string[] => ['--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`];

describe('recorder faults', () => {
  it('flushes everything and exits 0 on SIGTERM', async () => {
    const dir = tmpDir();
    const rec = startCli(['record', '--out', dir, '--metrics-port', '0', ...endpoints()]);
    await rec.waitFor(/recording binance, coinbase/);
    await sleep(2_500);
    rec.child.kill('SIGTERM');
    expect(await rec.exited, rec.stderr).toBe(0);
    const outDir = /live outputs → (\S+):/.exec(rec.stdout)![1]!;
    expect(fs.existsSync(path.join(outDir, 'manifest.json'))).toBe(true);
    expect(leftInSpool(dir)).toEqual([]);
    let frames = 0;
    for await (const ev of readArchive(await planArchive(path.join(dir, 'raw')))) if (ev.kind === 'frame') frames++;
    expect(frames).toBeGreaterThan(20);
  }, 30_000);

  it('loses nothing committed across a loop of 10 kill -9s: loss per kill within the commit interval, no duplicate, every file readable', async () => {
    const dir = tmpDir();
    const kills: { startNs: bigint; killNs: bigint }[] = [];
    const now = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    for (let i = 0; i < 10; i++) {
      const rec = startCli(['record', '--out', dir, '--metrics-port', '0', ...endpoints()]);
      await rec.waitFor(/recording binance, coinbase/);
      const startNs = now();
      await sleep(900 + 150 * i);
      const killNs = now();
      rec.child.kill('SIGKILL');
      await rec.exited;
      kills.push({ startNs, killNs });
      if (i > 0) expect(rec.stderr, `run ${i} recovered what run ${i - 1} left`).toMatch(/recovered \d+ events from 1 unfinished spool/);
    }
    expect(fs.readdirSync(path.join(dir, 'spool')).some((f) => f.endsWith('.spool')), 'the last crash left a spool').toBe(true);
    const again = startCli(['record', '--out', dir, '--duration', '2s', '--metrics-port', '0', ...endpoints()]);
    expect(await again.exited, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/recovered \d+ events from 1 unfinished spool/);
    expect(leftInSpool(dir), 'no spool is left behind').toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'raw'), { recursive: true }).map(String).filter((f) => f.endsWith('.tmp')), 'no temp file of a killed run is left').toEqual([]);

    for (const f of listArchiveFiles(path.join(dir, 'raw'))) {
      expect((await readParquet(f)).length, `${f} reads back`).toBeGreaterThan(0);
    }
    // Frames as multisets: each copy the simulator sent may be archived at most once.
    const archived = new Map<string, number>();
    for await (const ev of readArchive(await planArchive(path.join(dir, 'raw')))) {
      if (ev.kind === 'frame') archived.set(ev.payload, (archived.get(ev.payload) ?? 0) + 1);
    }
    const sentCount = new Map<string, number>();
    for (const f of sim.sent) sentCount.set(f.payload, (sentCount.get(f.payload) ?? 0) + 1);
    const duplicated = [...archived].filter(([p, n]) => n > (sentCount.get(p) ?? 0)).map(([p]) => p.slice(0, 80));
    expect(duplicated, 'no frame is archived more often than it was sent').toEqual([]);
    // Commits happen every 50 ms; allow that plus loopback delivery before each kill.
    for (const [i, k] of kills.entries()) {
      const mustHave = sim.sent.filter((f) => f.tNs > k.startNs && f.tNs < k.killNs - 300_000_000n);
      expect(mustHave.length, `run ${i} saw frames`).toBeGreaterThan(5);
      const missing = mustHave.filter((f) => {
        const n = archived.get(f.payload) ?? 0;
        if (n > 0) archived.set(f.payload, n - 1);
        return n === 0;
      });
      expect(missing.map((f) => f.payload.slice(0, 80)), `run ${i}: frames sent before its last commit are in the archive`).toEqual([]);
    }
  }, 180_000);

  it('keeps running through malformed frames, unknown messages, a stall and a refused connection, and counts them', async () => {
    const dir = tmpDir();
    const rec = startCli(['record', '--out', dir, '--duration', '18s', '--silence', '1500ms', '--metrics-port', '0', ...endpoints()]);
    const url = (await rec.waitFor(/metrics at (\S+)/))[1]!;
    await sleep(1_500);
    sim.control({ action: 'malformed', exchange: 'binance', count: 3 });
    sim.control({ action: 'unknown', exchange: 'coinbase', count: 2 });
    await sleep(1_000);
    sim.control({ action: 'stall', exchange: 'coinbase', ms: 3_000 });
    await sleep(4_000);
    sim.control({ action: 'refuse', exchange: 'binance', ms: 2_000 });
    sim.control({ action: 'disconnect', exchange: 'binance' });
    await sleep(7_000);
    const scrape = async (): Promise<{ text: string; metric: (name: string, exchange: string) => number }> => {
      const text = await (await fetch(url)).text();
      return {
        text, metric: (name, exchange) => {
          const m = new RegExp(`^${name}\\{exchange="${exchange}"\\} (\\S+)$`, 'm').exec(text);
          return m ? Number(m[1]) : NaN;
        },
      };
    };
    const before = (await scrape()).metric;
    await sleep(1_000);
    const { text, metric } = await scrape();
    expect(metric('tapedeck_decode_errors_total', 'binance'), 'malformed frames').toBe(3);
    expect(metric('tapedeck_unknown_messages_total', 'coinbase'), 'unknown messages').toBe(2);
    expect(metric('tapedeck_connection_errors_total', 'coinbase'), 'the stall').toBeGreaterThanOrEqual(1);
    expect(metric('tapedeck_connection_errors_total', 'binance'), 'the refusal (HTTP 503)').toBeGreaterThanOrEqual(1);
    expect(metric('tapedeck_reconnects_total', 'binance')).toBeGreaterThanOrEqual(1);
    expect(metric('tapedeck_reconnects_total', 'coinbase')).toBeGreaterThanOrEqual(1);
    expect(metric('tapedeck_frames_total', 'binance'), 'binance is flowing again').toBeGreaterThan(before('tapedeck_frames_total', 'binance'));
    expect(metric('tapedeck_frames_total', 'coinbase'), 'coinbase is flowing again').toBeGreaterThan(before('tapedeck_frames_total', 'coinbase'));
    expect(text).toMatch(/^tapedeck_spool_lag_seconds /m);
    expect(text).toMatch(/^tapedeck_commit_latency_seconds_bucket\{le="[^"]+",exchange="binance"\}/m);
    expect(await rec.exited, rec.stderr).toBe(0);
  }, 60_000);
});
