/**
 * Hardening of `tapedeck record` (issue 10): a bad --session is refused at parse time,
 * a stop takes no longer than flushing does, and two recorders racing on one leftover
 * spool neither corrupt nor lose anything.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { runCli, startCli, tmpDir } from '../helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 31, meanGapMs: 100 });
});
afterAll(async () => {
  await sim.close();
});

const endpoints = (): string[] => ['--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`];

describe('record --session', () => {
  it.each([
    ['a path that climbs out of --out', '../../escaped'],
    ['a name with a space', 'my session'],
    ['an absolute path', '/tmp/x'],
    ['an empty name', ''],
  ])('refuses %s with one line and exit 2, writing nothing', (_what, session) => {
    const dir = tmpDir();
    const out = path.join(dir, 'a', 'b');
    const r = runCli(['record', '--out', out, '--session', session, '--duration', '1s', '--metrics-port', '0', ...endpoints()]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n'), 'one line').toHaveLength(1);
    expect(r.stderr).toMatch(/^tapedeck: bad --session/);
    expect(fs.readdirSync(dir), 'nothing was written, inside --out or outside it').toEqual([]);
  });
});

describe('stopping', () => {
  it('exits as soon as everything is flushed, not 10 s later', async () => {
    const dir = tmpDir();
    const rec = startCli(['record', '--out', dir, '--metrics-port', '0', ...endpoints()]);
    await rec.waitFor(/recording binance, coinbase/);
    await new Promise((r) => setTimeout(r, 1_500));
    const t0 = Date.now();
    rec.child.kill('SIGTERM');
    expect(await rec.exited, rec.stderr).toBe(0);
    const ms = Date.now() - t0;
    expect(ms, 'a stop with nothing in flight takes well under docker stop\'s 10 s grace').toBeLessThan(4_000);
  }, 30_000);
});
