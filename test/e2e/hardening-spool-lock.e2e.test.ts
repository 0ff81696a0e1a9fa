/**
 * Recovery of a leftover spool is exclusive (issue 10 item 1): two recorders starting on one
 * --out never both recover the same dead session (which left a corrupt Parquet file and no
 * spool); the one that cannot take the lock says so in one line and exits non-zero; and a
 * spool whose .pid names a live process that is not its recorder (a reused PID) is recovered.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Spool } from '../../recorder/spool.ts';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { listArchiveFiles } from '../../src/storage/archive-read.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { leftInSpool, startCli, tmpDir } from '../helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 51, meanGapMs: 100 });
});
afterAll(async () => {
  await sim.close();
});

const endpoints = (): string[] => ['--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`];

/** Runs the CLI without blocking this process, where the simulator serves (runCli would stall it). */
async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = startCli(args);
  const code = await c.exited;
  return { code, stdout: c.stdout, stderr: c.stderr };
}

/** A spool as a recorder killed with -9 leaves it: `n` committed frames of session `dead`, and its .pid. */
function leftover(out: string, n: number, pid: string): void {
  const file = path.join(out, 'spool', 'dead.spool');
  const spool = new Spool(file);
  const t0 = 1_700_000_000_000_000_000n;
  for (let i = 0; i < n; i++) {
    const id = 1_000_000 + i;
    spool.add({
      session: 'dead', ingestSeq: i, recvNs: t0 + BigInt(i) * 1_000_000n, exchange: 'binance', conn: 'binance.0', kind: 'frame', meta: '',
      payload: `{"stream":"btcusdt@trade","data":{"e":"trade","E":${1_700_000_000_000 + i},"s":"BTCUSDT","t":${id},"p":"42000.01000000","q":"0.00100000","T":${1_700_000_000_000 + i},"m":false,"M":true}}`,
    });
    if (i % 10_000 === 9_999) spool.commit();
  }
  spool.commit();
  spool.close();
  fs.writeFileSync(file.replace(/\.spool$/, '.pid'), pid);
}

/** Rows of session `dead` in the archive, counted per file (no de-duplication), and whether every file reads. */
async function archived(out: string): Promise<{ rows: number; ids: Set<number> }> {
  let rows = 0;
  const ids = new Set<number>();
  for (const f of listArchiveFiles(path.join(out, 'raw'))) {
    for (const r of await readParquet(f)) {
      if (r.session !== 'dead') continue;
      rows++;
      ids.add(Number(r.ingest_seq));
    }
  }
  return { rows, ids };
}

function tmpFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tmp'));
}

describe('spool recovery lock', () => {
  it('recovers a spool whose .pid names a live process that is not a recorder (a reused PID)', async () => {
    const out = tmpDir();
    leftover(out, 500, '1');
    const r = await run(['record', '--out', out, '--duration', '1s', '--metrics-port', '0', ...endpoints()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/recovered 500 events from 1 unfinished spool/);
    const a = await archived(out);
    expect(a.rows).toBe(500);
    expect(fs.readdirSync(path.join(out, 'spool')).filter((f) => f.startsWith('dead.'))).toEqual([]);
  });

  it('lets only one of two recorders racing on a leftover spool recover it: no corruption, no loss, one refuses', async () => {
    const out = tmpDir();
    const n = 300_000;
    leftover(out, n, '999999999');
    const a = startCli(['record', '--out', out, '--duration', '2s', '--metrics-port', '0', ...endpoints()]);
    await a.waitFor(/recovering 1 unfinished spool/, 60_000);
    const b = startCli(['record', '--out', out, '--duration', '2s', '--metrics-port', '0', ...endpoints()]);
    const [ca, cb] = await Promise.all([a.exited, b.exited]);
    expect(ca, a.stderr).toBe(0);
    expect(a.stderr).toMatch(new RegExp(`recovered ${n} events from 1 unfinished spool`));
    expect(cb, `the second recorder refuses while the first recovers; stderr: ${b.stderr}`).not.toBe(0);
    expect(b.stderr.trim().split('\n'), 'in one line').toHaveLength(1);
    expect(b.stderr).toMatch(/^tapedeck: .*another recorder .*recovering/);

    for (const f of listArchiveFiles(path.join(out, 'raw'))) expect((await readParquet(f)).length, `${f} reads back`).toBeGreaterThan(0);
    const got = await archived(out);
    expect(got.ids.size, 'no event of the dead session is lost').toBe(n);
    expect(got.rows, 'and none is archived twice').toBe(n);
    expect(tmpFiles(out), 'no temp file is left behind').toEqual([]);
    expect(fs.readdirSync(path.join(out, 'spool')).filter((f) => f.startsWith('dead.')), 'the recovered spool is gone').toEqual([]);
  }, 120_000);

  it('leaves a live recorder\'s spool alone when a second recorder starts on the same --out', async () => {
    const out = tmpDir();
    const a = startCli(['record', '--out', out, '--duration', '5s', '--metrics-port', '0', ...endpoints()]);
    await a.waitFor(/recording binance, coinbase/);
    const b = await run(['record', '--out', out, '--duration', '1s', '--metrics-port', '0', ...endpoints()]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr, 'the live spool is not taken for a dead one').not.toMatch(/recover/);
    expect(await a.exited, a.stderr).toBe(0);
    expect(leftInSpool(out), 'both finished their spools').toEqual([]);
    expect(tmpFiles(out)).toEqual([]);
  }, 60_000);
});
