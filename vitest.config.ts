import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Replays under test keep their decoded-event caches (replayer/decode-cache.ts) in a folder of
// the run's own, removed after it (test/decode-cache-teardown.ts), never in the user's cache.
const decodeCache = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-test-decoded-'));
process.env.TAPEDECK_TEST_DECODE_CACHE = decodeCache;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: { TAPEDECK_DECODE_CACHE: decodeCache, TAPEDECK_DECODE_CACHE_MB: '1024' },
    globalSetup: ['test/decode-cache-teardown.ts'],
  },
});
