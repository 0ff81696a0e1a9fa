/**
 * The CLI from its cached bundle (src/cli/bundle.ts, the launcher src/cli/tapedeck.mjs): a
 * bundle runs as its sources do (relative imports, dynamic imports split into chunks, each
 * module's own import.meta.url), is used while its sources stand still and rebuilt when one
 * changes, and processes that build at once end with one bundle. The real CLI from its
 * bundle and through tsx writes the same bytes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCliBundle } from '../../src/cli/bundle.ts';
import { DEFAULT_CACHE, bundleName, freshBundleEntry } from '../../src/cli/bundle-stamps.mjs';
import { generateArchive } from '../../src/cli/demo.ts';
import { ROOT, runCli, tmpDir } from '../helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A small program in TypeScript: a static import, a dynamic one, and a file found next to its own source. */
function project(word: string): { dir: string; entry: string; cache: string } {
  const dir = tmpDir('tapedeck-cb-');
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'word.ts'), `export const word = (n: number): string => ${JSON.stringify(word)} + n;\n`);
  fs.writeFileSync(path.join(dir, 'late.ts'), "import fs from 'node:fs';\nexport const beside = (): string => fs.readFileSync(new URL('./data.txt', import.meta.url), 'utf8');\n");
  fs.writeFileSync(path.join(dir, 'data.txt'), 'found');
  fs.writeFileSync(path.join(dir, 'main.ts'), "import { word } from './word.ts';\nconst { beside } = await import('./late.ts');\nconsole.log(word(1), beside());\n");
  return { dir, entry: path.join(dir, 'main.ts'), cache: path.join(dir, 'cache') };
}

const run = (url: URL): string => {
  const r = spawnSync(process.execPath, [fileURLToPath(url)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
};

describe('the CLI bundle', () => {
  it('runs as its sources do, split at dynamic imports, each module finding files beside its own source', async () => {
    const p = project('one-');
    const url = await buildCliBundle(p.entry, p.cache);
    expect(url).toBeDefined();
    expect(url!.href.startsWith(pathToFileURL(p.cache).href)).toBe(true);
    expect(run(url!)).toBe('one-1 found');
    const folder = path.dirname(fileURLToPath(url!));
    expect(fs.readdirSync(folder).length, 'the dynamic import is a chunk of its own').toBeGreaterThan(1);
    expect(freshBundleEntry(p.cache, bundleName(p.entry))?.href).toBe(url!.href);
  });

  it('is stale once a source changes or its stamps are unreadable, and builds anew', async () => {
    const p = project('old-');
    const first = await buildCliBundle(p.entry, p.cache);
    expect(run(first!)).toBe('old-1 found');
    fs.writeFileSync(path.join(p.dir, 'word.ts'), 'export const word = (n: number): string => "new-" + (n + 1);\n');
    expect(freshBundleEntry(p.cache, bundleName(p.entry))).toBeUndefined();
    const second = await buildCliBundle(p.entry, p.cache);
    expect(second!.href).not.toBe(first!.href);
    expect(run(second!)).toBe('new-2 found');
    fs.writeFileSync(path.join(p.cache, `${bundleName(p.entry)}.json`), '{"dir":');
    expect(freshBundleEntry(p.cache, bundleName(p.entry))).toBeUndefined();
  });

  it('processes building at once end with the one bundle, and no stray folders', async () => {
    const p = project('both-');
    const urls = await Promise.all([buildCliBundle(p.entry, p.cache), buildCliBundle(p.entry, p.cache), buildCliBundle(p.entry, p.cache)]);
    expect(new Set(urls.map((u) => u?.href)).size).toBe(1);
    expect(run(urls[0]!)).toBe('both-1 found');
    expect(fs.readdirSync(p.cache).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('the tapedeck command from its bundle and through tsx: the same output files, byte for byte', () => {
    const dir = tmpDir('tapedeck-cb-');
    dirs.push(dir);
    generateArchive({ minutes: 10, seed: 7, out: path.join(dir, 'arc') });
    const outs = ['1', '0'].map((bundle) => {
      const out = path.join(dir, `out-${bundle}`);
      const r = runCli(['replay', '--from', path.join(dir, 'arc'), '--out', out, '--speed', 'max'], { TAPEDECK_BUNDLE: bundle });
      expect(r.code, r.stderr).toBe(0);
      return out;
    });
    const files = fs.readdirSync(outs[0]!).sort();
    expect(fs.readdirSync(outs[1]!).sort()).toEqual(files);
    for (const f of files) expect(fs.readFileSync(path.join(outs[1]!, f)).equals(fs.readFileSync(path.join(outs[0]!, f))), f).toBe(true);
    expect(freshBundleEntry(DEFAULT_CACHE, bundleName(path.join(ROOT, 'src/cli/main.ts'))), 'the first run was from a bundle').toBeDefined();
  });
});
