/** The claim an import holds on its session's files in an archive folder (src/storage/session-lock.ts). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockSession, SessionLocked } from '../../src/storage/session-lock.ts';
import { ROOT, tmpDir } from '../helpers.ts';

const LOCK = path.join(ROOT, 'src/storage/session-lock.ts');

describe('lockSession', () => {
  it('lets one holder at a time have a session, and the next one after its release', () => {
    const dir = path.join(tmpDir(), 'archive');
    const release = lockSession(dir, 's1');
    expect(() => lockSession(dir, 's1')).toThrow(SessionLocked);
    // Another process is refused too (the operating system's lock, not this process's bookkeeping).
    const other = spawnSync(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(LOCK)}).then((m) => { try { m.lockSession(${JSON.stringify(dir)}, 's1'); process.stdout.write('got it'); } catch (e) { process.stdout.write(e.constructor.name); } })`], { encoding: 'utf8', cwd: ROOT });
    expect(other.stdout, other.stderr).toBe('SessionLocked');
    // Another session of the same folder is another claim.
    lockSession(dir, 's2')();
    release();
    expect(fs.readdirSync(dir)).toEqual([]);
    lockSession(dir, 's1')();
  });

  it('lets go of the claim of a process that ended without releasing it (killed)', () => {
    const dir = tmpDir();
    const killed = spawnSync(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(LOCK)}).then((m) => { m.lockSession(${JSON.stringify(dir)}, 's1'); process.kill(process.pid, 'SIGKILL'); })`], { encoding: 'utf8', cwd: ROOT });
    expect(killed.signal).toBe('SIGKILL');
    expect(fs.existsSync(path.join(dir, '.s1.lock')), 'its lock file stays').toBe(true);
    lockSession(dir, 's1')();
  });
});
