/** Vitest's global setup: removes the run's decoded-event cache folder (vitest.config.ts) once every test file has run. */
import fs from 'node:fs';

export default function setup(): () => void {
  return () => {
    const dir = process.env.TAPEDECK_TEST_DECODE_CACHE;
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  };
}
