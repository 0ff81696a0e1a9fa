/** The one check of an output folder before a command writes anything: replay, import and record say the same. */
import fs from 'node:fs';
import path from 'node:path';
import { TapedeckError } from '../errors.ts';

/**
 * Refuses, before a run starts, an output folder it could not write into at its end: one
 * that is a file, or that would have to be made under one (a replay ran to its end first
 * and then failed with `ENOTDIR … mkdir`, exit 1; an import did so at its first file).
 */
export function checkOutputFolder(out: string): void {
  let d = path.resolve(out);
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  if (fs.statSync(d).isDirectory()) return;
  throw new TapedeckError(d === path.resolve(out) ? `the output folder ${out} is a file` : `the output folder ${out} is under a file, ${d}`);
}

/**
 * Whether folder `inner` is `outer` or lies inside it, links followed: an output folder
 * reached through a link into the archive (or the archive through a link, the output by its
 * real path) is inside it as much as one named by its path.
 */
export function within(inner: string, outer: string): boolean {
  const rel = path.relative(realPath(outer), realPath(inner));
  return rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** `p` with every link followed: its nearest existing folder's real path, then the rest of it, which does not exist yet. */
function realPath(p: string): string {
  let d = path.resolve(p);
  const rest: string[] = [];
  while (path.dirname(d) !== d) {
    try {
      return path.join(fs.realpathSync(d), ...rest);
    } catch {
      // Not there yet (or a dangling link): its parent decides where it would be made.
      rest.unshift(path.basename(d));
      d = path.dirname(d);
    }
  }
  return path.join(d, ...rest);
}
