/**
 * The CLI as a cached bundle. Loading ~130 TypeScript modules through tsx (its loader
 * thread, a transform or cache lookup per module) cost every command ~0.4 s of start-up
 * before it did anything (issue 9: start-up is part of what a user waits for). So the CLI
 * is bundled once with esbuild (the transformer tsx itself uses) into
 * `node_modules/.cache/tapedeck/`, split at its dynamic imports so that each command still
 * loads only its own code, and the launcher (tapedeck.mjs) runs that bundle while the
 * stamps of its sources hold (bundle-stamps.mjs); a changed source makes the next command
 * build it again. Packages stay imports, resolved from the cache as from the sources.
 *
 * A module's `import.meta.url` is replaced by its own source's URL, so that what it finds
 * relative to itself (package.json, worker entries, the UI page) is found as from the
 * sources. Whatever goes wrong here (no esbuild, a read-only install) leaves the CLI on tsx:
 * slower to start, the same code.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_CACHE, EDITED, SUSPECT_MS, buildStamps, bundleName, usesImportMeta, writeAtomic } from './bundle-stamps.mjs';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** A bundle folder unused this long is removed when another is built (a process may still be loading from a newer-than-that one). */
const KEEP_OLD_MS = 60 * 60_000;

/** Each module's `import.meta.url` as the literal URL of its source file (sources only; packages stay imports). */
const ownUrl: Plugin = {
  name: 'tapedeck-own-url',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const text = await fs.promises.readFile(args.path, 'utf8');
      return {
        contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
        loader: /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js',
      };
    });
  },
};

/**
 * Builds the bundle of `entry` (the CLI's main.ts) into `cacheDir` and returns its entry
 * module, or undefined when no bundle can be had. Processes that build at once each build
 * into a folder of their own and the first to rename it into place wins.
 */
export async function buildCliBundle(entry = MAIN, cacheDir = DEFAULT_CACHE): Promise<URL | undefined> {
  // A source stamped near or after the build's start may have been read either way, so one
  // more build, begun later, decides (bundle-stamps.mjs, SUSPECT_MS).
  for (let attempt = 0; ; attempt++) {
    const built = await buildOnce(entry, cacheDir);
    if (built !== EDITED) return built;
    if (attempt === 1) return undefined;
    await sleep(SUSPECT_MS + 1);
  }
}

async function buildOnce(entry: string, cacheDir: string): Promise<URL | undefined | typeof EDITED> {
  const esbuild = await import('esbuild');
  const name = bundleName(entry);
  // esbuild names the entry's output after it.
  const out = `${path.basename(entry, '.ts')}.mjs`;
  const tmp = path.join(cacheDir, `.${name}-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const started = Date.now();
  try {
    const result = await esbuild.build({
      entryPoints: [entry], absWorkingDir: path.dirname(entry), outdir: tmp, bundle: true, splitting: true,
      platform: 'node', format: 'esm', target: 'node20', packages: 'external', outExtension: { '.js': '.mjs' },
      metafile: true, logLevel: 'silent', plugins: [ownUrl],
    });
    const workDir = path.dirname(entry);
    if (Object.keys(result.metafile.outputs).some((f) => usesImportMeta(fs.readFileSync(path.resolve(workDir, f), 'utf8')))) return undefined;
    const inputs = buildStamps(Object.keys(result.metafile.inputs), workDir, started);
    if (inputs === EDITED) return EDITED;
    const dir = `${name}-${createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 12)}`;
    try {
      fs.renameSync(tmp, path.join(cacheDir, dir));
    } catch {
      // Another process built the same sources first: use its folder.
      if (!fs.existsSync(path.join(cacheDir, dir, out))) return undefined;
    }
    writeAtomic(path.join(cacheDir, `${name}.json`), JSON.stringify({ dir, entry: out, inputs }));
    removeOld(cacheDir, name, dir);
    return pathToFileURL(path.join(cacheDir, dir, out));
  } catch (err) {
    if (process.env.TAPEDECK_DEBUG) console.error(err);
    return undefined;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Folders of earlier builds of `name`, unused for a while. */
function removeOld(cacheDir: string, name: string, keep: string): void {
  for (const e of fs.readdirSync(cacheDir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === keep || !e.name.startsWith(`${name}-`)) continue;
    const at = path.join(cacheDir, e.name);
    if (Date.now() - fs.statSync(at).mtimeMs > KEEP_OLD_MS) fs.rmSync(at, { recursive: true, force: true });
  }
}
