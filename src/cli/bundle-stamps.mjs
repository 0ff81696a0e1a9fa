// Cached bundles of tapedeck's TypeScript, and the stamps (size and mtime of every source a
// bundle was built from) that say whether one is still fresh. Plain JavaScript: the CLI's
// launcher (tapedeck.mjs) asks it before any TypeScript loader is registered. The bundlers
// are src/cli/bundle.ts (the CLI) and replayer/worker-entry.ts (worker threads).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where bundles go: beside the packages they import (resolved from there as from the sources), as build tools' caches do. */
export const DEFAULT_CACHE = path.join(fileURLToPath(new URL('../..', import.meta.url)), 'node_modules', '.cache', 'tapedeck');

/** The stamp of a source file as it is now. */
function stampOf(file) {
  const st = fs.statSync(file);
  return { file, size: st.size, mtimeMs: st.mtimeMs };
}

/** Every source a bundle was built from is as it was (false for stamps that are not a list of them). */
export function stampsFresh(inputs) {
  return Array.isArray(inputs) && inputs.length > 0 && inputs.every((s) => {
    const st = typeof s?.file === 'string' ? fs.statSync(s.file, { throwIfNoEntry: false }) : undefined;
    return st !== undefined && st.size === s.size && st.mtimeMs === s.mtimeMs;
  });
}

/**
 * How near a build's start a source's mtime makes the build suspect. mtimes come from the
 * kernel's coarse clock: finer than Date.now() (a file saved in the millisecond the build
 * starts is stamped after that millisecond) yet up to a tick behind real time (a file saved
 * just after the build began can be stamped before it). A suspect build is done again
 * once this long has passed (SUSPECT_MS + 1 ms later), which decides.
 */
export const SUSPECT_MS = 10;

/** What buildStamps answers for a build a source may have changed under (both bundlers build again). */
export const EDITED = Symbol('a source changed while it was built');

/**
 * The stamps of a build's sources (esbuild's metafile inputs, relative to `workDir`), or
 * EDITED when one was stamped within SUSPECT_MS of `started` or after it: the bundle may
 * hold either version.
 */
export function buildStamps(inputs, workDir, started) {
  const stamps = inputs.map((f) => stampOf(path.resolve(workDir, f)));
  return stamps.some((s) => s.mtimeMs >= started - SUSPECT_MS) ? EDITED : stamps;
}

/** Bundled code that still uses `import.meta` finds files beside the bundle, not beside its sources: it cannot be served from the cache. */
export function usesImportMeta(text) {
  return /\bimport\.meta\b/.test(text);
}

/** A JSON file's value, or undefined when it is missing or cut short (a full disk, a crash). */
export function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Another process may be writing the same file: each writes its own, then renames. */
export function writeAtomic(file, text) {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** The bundle's name for an entry file: its base name and a hash of its path (one cache serves several checkouts). */
export function bundleName(entry) {
  return `${path.basename(entry).replace(/\.[cm]?ts$/, '')}-${createHash('sha256').update(entry).digest('hex').slice(0, 12)}`;
}

/**
 * The entry module of the fresh CLI bundle named `name` in `cacheDir` (src/cli/bundle.ts
 * writes `<name>.json`: its folder, entry file and stamps), or undefined when there is none.
 */
export function freshBundleEntry(cacheDir, name) {
  const m = readJson(path.join(cacheDir, `${name}.json`));
  if (typeof m?.dir !== 'string' || typeof m.entry !== 'string' || !stampsFresh(m.inputs)) return undefined;
  const entry = path.join(cacheDir, m.dir, m.entry);
  return fs.existsSync(entry) ? pathToFileURL(entry) : undefined;
}
