// Whether this process can import TypeScript (tsx registered) or runs the CLI's bundle
// (tapedeck.mjs), which needs tsx only for a user's own TypeScript (a `--strategy` file).

/** globalThis[LOADER]: 'tsx' once tsx is registered, 'bundle' while the CLI runs from its bundle without it. */
export const LOADER = Symbol.for('tapedeck.loader');

/**
 * Registers tsx, once per process: its ESM hooks, and its CommonJS ones for a `.ts` file that
 * Node takes for CommonJS (a user's strategy in a folder without `"type": "module"`), which
 * the ESM hooks alone fail on ("Cannot require() ES Module … in a cycle").
 */
export async function useTypeScript() {
  if (globalThis[LOADER] === 'tsx') return;
  (await import('tsx/esm/api')).register();
  (await import('tsx/cjs/api')).register();
  globalThis[LOADER] = 'tsx';
}
