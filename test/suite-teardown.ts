/** Vitest's global setup: removes the run's temporary folder (vitest.config.ts) once every test file has run. */
import fs from 'node:fs';

export default function setup(): () => void {
  return () => {
    const dir = process.env.TAPEDECK_TEST_TMP;
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}
