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

/** Whether folder `inner` is `outer` or lies inside it (by their paths: links are not followed). */
export function within(inner: string, outer: string): boolean {
  const rel = path.relative(path.resolve(outer), path.resolve(inner));
  return rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}
