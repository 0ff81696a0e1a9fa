/** What the recorder's end-to-end tests check alike. */
import path from 'node:path';
import { expect } from 'vitest';
import { readManifest } from '../../src/storage/run.ts';
import { runCli } from '../helpers.ts';

/**
 * Replays a recording's archive (`dir/raw`) with these windows into `dir/replay`, and checks
 * that every table's digest is the live run's (`outDir`) and that `verify` says identical.
 */
export function expectReplayIdentical(dir: string, outDir: string, windows: string): void {
  const rep = runCli(['replay', '--from', path.join(dir, 'raw'), '--speed', 'max', '--windows', windows, '--out', path.join(dir, 'replay')]);
  expect(rep.code, rep.stderr).toBe(0);
  const live = readManifest(outDir);
  const replayed = readManifest(path.join(dir, 'replay'));
  for (const t of Object.keys(live.tables)) expect(replayed.tables[t]!.sha256, t).toBe(live.tables[t]!.sha256);
  const v = runCli(['verify', '--recording', path.join(dir, 'raw'), '--live', outDir]);
  expect(v.code, v.stderr).toBe(0);
  expect(v.stdout).toContain('identical');
}
