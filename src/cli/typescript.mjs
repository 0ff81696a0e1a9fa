// Whether this process can import TypeScript (tsx registered) or runs the CLI's bundle
// (tapedeck.mjs), which needs tsx only for a user's own TypeScript (a `--strategy` file).

/** globalThis[LOADER]: 'tsx' once tsx is registered, 'bundle' while the CLI runs from its bundle without it. */
export const LOADER = Symbol.for('tapedeck.loader');

/** Registers tsx, once per process. */
export async function useTypeScript() {
  if (globalThis[LOADER] === 'tsx') return;
  const { register } = await import('tsx/esm/api');
  register();
  globalThis[LOADER] = 'tsx';
}
