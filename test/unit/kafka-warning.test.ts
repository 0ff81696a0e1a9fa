/**
 * kafkajs schedules its request queue's checks with negative delays, which Node 24 and later
 * warn about on stderr in every process that talks to a broker (three lines after a replay's
 * summary, on Node 26). src/storage/kafka.ts passes on every warning but that one.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.ts';

const run = (code: string): string => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' }).stderr;

describe('src/storage/kafka.ts', () => {
  it('keeps Node\'s TimeoutNegativeWarning off stderr, and every other warning on it', () => {
    const warn = `process.emitWarning('-1795541858044 is a negative number.\\nTimeout duration was set to 1.', 'TimeoutNegativeWarning');
      process.emitWarning('something else', 'OtherWarning');`;
    const without = run(warn);
    expect(without, 'without the module, Node prints both').toMatch(/TimeoutNegativeWarning[\s\S]*OtherWarning/);
    const withIt = run(`await import('./src/storage/kafka.ts');\n${warn}`);
    expect(withIt).not.toMatch(/TimeoutNegativeWarning/);
    expect(withIt).toMatch(/OtherWarning: something else/);
  });
});
