/**
 * A session's claim on an archive folder while one process writes it: a file
 * `.<session>.lock` beside its Parquet files (readers take only `.parquet` files), made
 * with O_EXCL and holding the writer's pid. Two imports of one recording into one --out at
 * once both passed the "already holds this session" check and overwrote each other's
 * files, both saying they had imported it whole. A lock whose process is gone (killed) is
 * taken over.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Another live process holds the session. */
export class SessionLocked extends Error {
  constructor(readonly session: string, readonly pid: number) {
    super(`session ${session} is being written by process ${pid}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims `session` in `dir` (made if missing); returns the release. Throws SessionLocked when a live process holds it. */
export function lockSession(dir: string, session: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `.${session}.lock`);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const pid = Number(fs.readFileSync(file, 'utf8'));
    if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) throw new SessionLocked(session, pid);
    // Left by a process that is gone (or cut short while written): taken over, once.
    fs.rmSync(file, { force: true });
  }
}
