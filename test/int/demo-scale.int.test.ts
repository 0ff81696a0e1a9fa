/**
 * The demo generator streams into the archive: the committed golden session regenerates to
 * exactly the same events, `demo --no-replay` only writes the archive (what benchmarks use
 * to make a big one), and `generateArchive` does the same from code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateArchive, writeSimulatedArchive } from '../../src/cli/demo.ts';
import { listArchiveFiles } from '../../src/storage/archive-read.ts';
import { ROOT, readArchiveEvents, runCli, tmpDir } from '../helpers.ts';


describe('demo generator at scale', () => {
  it('regenerates the committed golden session (seed 7, 3 min, fault drills) event for event', async () => {
    const dir = tmpDir();
    const n = writeSimulatedArchive(dir, { seed: 7, startMs: Date.UTC(2024, 7, 9, 12, 0, 0), minutes: 3, faults: true, maxRowsPerFile: 1_000 });
    const want = await readArchiveEvents(path.join(ROOT, 'data/sessions/sim-7-3m'));
    expect(n).toBe(want.length);
    expect(await readArchiveEvents(dir), 'the generator output for a seed must not change').toEqual(want);
  });

  it('demo --no-replay writes the archive and nothing else', () => {
    const dir = tmpDir();
    const r = runCli(['demo', '--minutes', '2', '--no-replay', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/simulated 2 min .*: \d+ events/);
    expect(listArchiveFiles(path.join(dir, 'raw')).length).toBe(3);
    expect(fs.existsSync(path.join(dir, 'out')), 'no replay outputs').toBe(false);
  });

  it('refuses --minutes past a month in one line, exit 2', () => {
    const r = runCli(['demo', '--minutes', '50000', '--no-replay', '--out', tmpDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tapedeck: bad --minutes 50000 \(above 0, at most 44640: a month\)$/);
  });

  it('generateArchive makes an archive from code (benchmarks)', async () => {
    const out = path.join(tmpDir(), 'raw');
    const g = generateArchive({ minutes: 3, seed: 5, out });
    expect(g.files).toBe(3);
    expect((await readArchiveEvents(out)).length).toBe(g.events);
  });
});
