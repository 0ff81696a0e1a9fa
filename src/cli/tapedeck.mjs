#!/usr/bin/env node
// The `tapedeck` bin. It runs the CLI's TypeScript from a bundle cached in
// node_modules/.cache/tapedeck (src/cli/bundle.ts; rebuilt when a source changes), ~0.4 s
// sooner than loading each module through tsx; with TAPEDECK_BUNDLE=0, or when no bundle
// can be built, it runs the sources through tsx (no build step to forget either way).
import { fileURLToPath } from 'node:url';
import { DEFAULT_CACHE, bundleName, freshBundleEntry } from './bundle-stamps.mjs';
import { LOADER, useTypeScript } from './typescript.mjs';

const bundled = process.env.TAPEDECK_BUNDLE !== '0';
let entry = bundled ? freshBundleEntry(DEFAULT_CACHE, bundleName(fileURLToPath(new URL('./main.ts', import.meta.url)))) : undefined;
if (entry === undefined) {
  await useTypeScript();
  if (bundled) entry = await (await import('./bundle.ts')).buildCliBundle();
} else {
  globalThis[LOADER] = 'bundle';
}
await import(entry?.href ?? './main.ts');
