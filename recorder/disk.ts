/**
 * The recorder's disk, said plainly. A full disk, a read-only mount or a missing permission
 * shows up as an errno (`ENOSPC`, `EROFS`, …) from fs or as a SQLite result code
 * (`SQLITE_FULL`, `SQLITE_READONLY`, `SQLITE_IOERR_*`) from the spool; both become one
 * `DiskFault` the recorder can stop on and the user can act on.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface DiskFault {
  /** `disk full`, `read-only file system`, `permission denied`, `I/O error`. */
  readonly what: string;
  /** The code behind it, e.g. SQLITE_FULL or ENOSPC. */
  readonly code: string;
}

const ERRNO: Record<string, string> = {
  ENOSPC: 'disk full', EDQUOT: 'disk quota exceeded', EROFS: 'read-only file system',
  EACCES: 'permission denied', EPERM: 'permission denied', EIO: 'I/O error',
};

/** What `err` says about the disk, or undefined when it is not a disk fault. */
export function diskFault(err: unknown): DiskFault | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (Object.hasOwn(ERRNO, code)) return { what: ERRNO[code]!, code };
  if (code === 'SQLITE_FULL') return { what: 'disk full', code };
  if (code.startsWith('SQLITE_READONLY')) return { what: 'read-only file system', code };
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN') return { what: 'I/O error', code };
  return undefined;
}

/**
 * Makes sure `out` exists and takes a file, or says why not in words. `mkdirSync` with
 * `recursive` reports a read-only parent as ENOENT, so the missing folders are made one by
 * one: the first that fails gives the true reason.
 */
export function ensureWritableDir(out: string): DiskFault | undefined {
  const missing: string[] = [];
  let d = path.resolve(out);
  while (!fs.existsSync(d)) {
    missing.unshift(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  try {
    for (const m of missing) fs.mkdirSync(m);
    const probe = path.join(out, `.tapedeck-probe-${process.pid}`);
    fs.writeFileSync(probe, '', { flag: 'wx' });
    fs.rmSync(probe);
    return undefined;
  } catch (err) {
    const f = diskFault(err);
    if (f) return f;
    const e = err as NodeJS.ErrnoException;
    return { what: e.message.replace(/^\w+: /, '').replace(/, \w+ '.*$/, ''), code: e.code ?? 'error' };
  }
}
