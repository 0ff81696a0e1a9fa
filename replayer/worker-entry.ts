/**
 * A worker thread's entry that starts without tsx. A worker does not inherit the main
 * thread's TypeScript loader: through tsx (its own loader thread, then every module's
 * transform) the archive reader thread took ~0.3–0.5 s longer to post its first batch than
 * the same code as one plain JavaScript file (issue 9: start-up is part of what a user waits).
 *
 * So the worker's TypeScript is bundled once with esbuild (the transformer tsx itself uses)
 * into `node_modules/.cache/tapedeck/`, next to the packages it imports (left as imports,
 * resolved from there as from the sources), and rebuilt whenever one of its source files
 * changes size or time. Whatever goes wrong (no esbuild, a read-only install, a module that
 * needs its own location through `import.meta`) falls back to the tsx entry: slower to
 * start, the same code.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_CACHE, EDITED, SUSPECT_MS, buildStamps, bundleName, readJson, stampsFresh, usesImportMeta, writeAtomic, type Stamp } from '../src/cli/bundle-stamps.mjs';

const built = new Map<string, URL>();

/**
 * The URL to start a worker for the TypeScript module `source`: its up-to-date bundle, or
 * `fallback` (an entry that registers tsx, then imports `source`) when none can be had.
 */
export function workerEntry(source: URL, fallback: URL, cacheDir = DEFAULT_CACHE): URL {
  const key = `${source.href}\u0000${cacheDir}`;
  let url = built.get(key);
  if (url === undefined) built.set(key, (url = bundledEntry(source, cacheDir) ?? fallback));
  return url;
}

/** The up-to-date bundle of `source` in `cacheDir`, built if need be; undefined if none can be had. */
export function bundledEntry(source: URL, cacheDir = DEFAULT_CACHE): URL | undefined {
  const entry = fileURLToPath(source);
  const name = bundleName(entry);
  const out = path.join(cacheDir, `${name}.mjs`);
  const stamps = path.join(cacheDir, `${name}.json`);
  try {
    if (fs.existsSync(out) && stampsFresh(readJson(stamps))) return pathToFileURL(out);
    // A source stamped near the build's start may have been read either way: one more
    // build, begun later, decides (bundle-stamps.mjs, SUSPECT_MS).
    let code = build(entry);
    if (code === EDITED) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SUSPECT_MS + 1);
      code = build(entry);
    }
    if (code === undefined || code === EDITED) return undefined;
    fs.mkdirSync(cacheDir, { recursive: true });
    writeAtomic(out, code.text);
    writeAtomic(stamps, JSON.stringify(code.inputs));
    return pathToFileURL(out);
  } catch {
    return undefined;
  }
}

function build(entry: string): { text: string; inputs: Stamp[] } | undefined | typeof EDITED {
  // esbuild's API is CommonJS and loads only when a bundle is (re)built.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const workDir = path.dirname(entry);
  const started = Date.now();
  const result = esbuild.buildSync({
    entryPoints: [entry], absWorkingDir: workDir, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    packages: 'external', write: false, metafile: true, logLevel: 'silent',
  });
  const text = result.outputFiles[0]!.text;
  if (usesImportMeta(text)) return undefined;
  const inputs = buildStamps(Object.keys(result.metafile.inputs), workDir, started);
  return inputs === EDITED ? EDITED : { text, inputs };
}
