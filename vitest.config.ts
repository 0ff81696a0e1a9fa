import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Everything a test run writes to the temporary folder (the tests' tmpDir(), the CLI processes
// they start, notebooks, browsers) goes into one folder of the run's own, removed after it by
// test/suite-teardown.ts: a run leaves nothing behind (they used to leave ~1.7 GB in /tmp per
// day of runs). TMPDIR is set here, before vitest forks its workers, so they inherit it.
const suiteTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-suite-'));
process.env.TMPDIR = suiteTmp;
process.env.TAPEDECK_TEST_TMP = suiteTmp;

// Replays under test keep their decoded-event caches (replayer/decode-cache.ts) in it too,
// never in the user's cache.
const decodeCache = fs.mkdtempSync(path.join(suiteTmp, 'tapedeck-test-decoded-'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: { TMPDIR: suiteTmp, TAPEDECK_DECODE_CACHE: decodeCache, TAPEDECK_DECODE_CACHE_MB: '1024' },
    globalSetup: ['test/suite-teardown.ts'],
  },
});
