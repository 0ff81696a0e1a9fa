/**
 * Memory is a test, not only a benchmark: replay streams the archive, so a 5M-event replay
 * runs inside a 300 MB V8 heap (the old reader held the whole archive: ~0.42 KB per event,
 * 2 GB for this one).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateArchive } from '../../src/cli/demo.ts';
import type { Manifest } from '../../src/storage/run.ts';
import { ROOT, tmpDir } from '../helpers.ts';

const EVENTS = 5_000_000;

describe('replay memory', () => {
  it(`replays a generated ${EVENTS / 1e6}M-event archive under --max-old-space-size=300`, () => {
    const dir = tmpDir();
    try {
      const gen = generateArchive({ minutes: Math.ceil(EVENTS / 1_670), seed: 11, out: path.join(dir, 'raw') });
      expect(gen.events).toBeGreaterThanOrEqual(EVENTS * 0.95);
      const out = path.join(dir, 'out');
      const r = spawnSync(process.execPath, ['--max-old-space-size=300', path.join(ROOT, 'src/cli/tapedeck.mjs'), 'replay', '--from', dir, '--out', out], {
        cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1' }, timeout: 900_000,
      });
      expect(r.status, `replay under a 300 MB heap: ${r.stderr}`).toBe(0);
      const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
      expect(m.events, 'every archived event was replayed').toBe(gen.events);
      expect(m.tables.candles!.rows, 'a 1m and a 5m candle per symbol and exchange for every minute').toBeGreaterThan(gen.events / 1_670 * 4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 1_200_000);
});
