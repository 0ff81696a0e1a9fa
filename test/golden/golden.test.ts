/**
 * Regression against golden outputs: replaying the committed simulator session must give
 * exactly the committed digests. A difference means the engine's output changed; if that
 * was meant, run `npm run golden` and commit the new digests with the change.
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
});
