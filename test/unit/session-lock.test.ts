/** The claim an import holds on its session's files in an archive folder (src/storage/session-lock.ts). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockSession, SessionLocked } from '../../src/storage/session-lock.ts';
import { tmpDir } from '../helpers.ts';

describe('lockSession', () => {
  it('lets one holder at a time have a session, and the next one after its release', () => {
    const dir = path.join(tmpDir(), 'archive');
    const release = lockSession(dir, 's1');
    expect(() => lockSession(dir, 's1')).toThrow(new SessionLocked('s1', process.pid));
    // Another session of the same folder is another claim.
    lockSession(dir, 's2')();
    release();
    expect(fs.readdirSync(dir)).toEqual([]);
    lockSession(dir, 's1')();
  });

  it('takes over the claim of a process that is gone', () => {
    const dir = tmpDir();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(path.join(dir, '.s1.lock'), gone.stdout);
    const release = lockSession(dir, 's1');
    expect(fs.readFileSync(path.join(dir, '.s1.lock'), 'utf8')).toBe(String(process.pid));
    release();
  });
});
