/**
 * Golden outputs: a small simulator session that tapedeck recorded into data/ (committed),
 * and the digests of what replaying it gives. `npm run golden` rewrites both — only when a
 * change to the outputs is intended, and then the diff of data/golden/ says so in review.
 */
import fs from 'node:fs';
import path from 'node:path';
import { replay, type ReplayOptions } from '../../replayer/replay.ts';
import { writeSimulatedArchive } from '../../src/cli/demo.ts';
import { DEFAULT_CONFIG, type EngineConfig } from '../../src/engine/config.ts';
import { ROOT } from '../helpers.ts';

export const GOLDEN_SESSION = path.join(ROOT, 'data/sessions/sim-7-3m');
export const GOLDEN_FILE = path.join(ROOT, 'data/golden/sim-7-3m.json');
export const GOLDEN_CONFIG: EngineConfig = { ...DEFAULT_CONFIG, intervalsMs: [10_000, 60_000] };

export async function goldenDigests(out: string, decodeCache: ReplayOptions['decodeCache'] = null): Promise<Record<string, { rows: number; sha256: string }>> {
  const { manifest } = await replay({ from: GOLDEN_SESSION, out, speed: 'max', config: GOLDEN_CONFIG, decodeCache });
  return Object.fromEntries(Object.entries(manifest.tables).map(([t, r]) => [t, { rows: r.rows, sha256: r.sha256 }]));
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  writeSimulatedArchive(GOLDEN_SESSION, { seed: 7, startMs: Date.UTC(2024, 7, 9, 12, 0, 0), minutes: 3, faults: true });
  const out = fs.mkdtempSync(path.join(ROOT, 'data/.golden-'));
  const digests = await goldenDigests(out);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(GOLDEN_FILE), { recursive: true });
  fs.writeFileSync(GOLDEN_FILE, `${JSON.stringify({ session: path.relative(ROOT, GOLDEN_SESSION), windows: ['10s', '1m'], tables: digests }, null, 2)}\n`);
  console.log(`wrote ${path.relative(ROOT, GOLDEN_SESSION)} and ${path.relative(ROOT, GOLDEN_FILE)}`);
}
