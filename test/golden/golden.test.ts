/**
 * Regression against golden outputs: replaying the committed simulator session must give
 * exactly the committed digests. A difference means the engine's output changed; if that
 * was meant, run `npm run golden` and commit the new digests with the change. The golden
 * digests are written without the decoded-event cache, and hold with it (written, then read).
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers.ts';
import { GOLDEN_FILE, goldenDigests } from './golden.ts';

describe('golden outputs', () => {
  it('replaying data/sessions/sim-7-3m gives the committed digests', async () => {
    const want = (JSON.parse(fs.readFileSync(GOLDEN_FILE, 'utf8')) as { tables: Record<string, unknown> }).tables;
    const got = await goldenDigests(tmpDir());
    expect(got, 'outputs changed: if intended, run `npm run golden` and commit data/golden/').toEqual(want);
    expect((want.candles as { rows: number }).rows).toBeGreaterThan(20);
  });

  it('and so do a replay that writes a decoded-event cache and one that reads it', async () => {
    const want = (JSON.parse(fs.readFileSync(GOLDEN_FILE, 'utf8')) as { tables: Record<string, unknown> }).tables;
    const cache = { dir: tmpDir('tapedeck-cache-'), capBytes: 1 << 30 };
    expect(await goldenDigests(tmpDir(), cache)).toEqual(want);
    expect(fs.readdirSync(cache.dir)).toHaveLength(1);
    expect(await goldenDigests(tmpDir(), cache)).toEqual(want);
  });
});
