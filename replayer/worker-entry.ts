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
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A source file as the bundle was built from it. */
interface Stamp {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where bundles go: beside the packages they import, as build tools' caches do. */
export const DEFAULT_CACHE = path.join(ROOT, 'node_modules', '.cache', 'tapedeck');

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
  const name = `${path.basename(entry, '.ts')}-${createHash('sha256').update(entry).digest('hex').slice(0, 12)}`;
  const out = path.join(cacheDir, `${name}.mjs`);
  const stamps = path.join(cacheDir, `${name}.json`);
  try {
    if (fresh(out, stamps)) return pathToFileURL(out);
    const code = build(entry);
    if (code === undefined) return undefined;
    fs.mkdirSync(cacheDir, { recursive: true });
    writeAtomic(out, code.text);
    writeAtomic(stamps, JSON.stringify(code.inputs));
    return pathToFileURL(out);
  } catch {
    return undefined;
  }
}

/** The bundle exists and every file it was built from is as it was. */
function fresh(out: string, stamps: string): boolean {
  if (!fs.existsSync(out) || !fs.existsSync(stamps)) return false;
  let inputs: Stamp[];
  try {
    inputs = JSON.parse(fs.readFileSync(stamps, 'utf8')) as Stamp[];
  } catch {
    return false; // a stamps file cut short (a full disk, a crash): build again
  }
  return Array.isArray(inputs) && inputs.length > 0 && inputs.every((s) => {
    const st = fs.statSync(s.file, { throwIfNoEntry: false });
    return st !== undefined && st.size === s.size && st.mtimeMs === s.mtimeMs;
  });
}

function build(entry: string): { text: string; inputs: Stamp[] } | undefined {
  // esbuild's API is CommonJS and loads only when a bundle is (re)built.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const workDir = path.dirname(entry);
  const started = Date.now();
  const result = esbuild.buildSync({
    entryPoints: [entry], absWorkingDir: workDir, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    packages: 'external', write: false, metafile: true, logLevel: 'silent',
  });
  const text = result.outputFiles[0]!.text;
  // A module that finds files relative to itself would look beside the bundle instead.
  if (text.includes('import.meta')) return undefined;
  const inputs = Object.keys(result.metafile.inputs).map((f): Stamp => {
    const file = path.resolve(workDir, f);
    const st = fs.statSync(file);
    return { file, size: st.size, mtimeMs: st.mtimeMs };
  });
  // A file edited while esbuild read it: the bundle may hold either version, so keep none.
  if (inputs.some((s) => s.mtimeMs >= started)) return undefined;
  return { text, inputs };
}

/** Another process may be building the same bundle: each writes its own file, then renames. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
