/** The example strategies by name; anything else is a path to a module exporting a Strategy. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LOADER, useTypeScript } from '../src/cli/typescript.mjs';
import { arbTaker } from './arb-taker.ts';
import { maCross } from './ma-cross.ts';
import { rsiReversion } from './rsi-reversion.ts';
import type { Strategy } from './types.ts';

export const BUILT_IN: Record<string, Strategy> = Object.fromEntries(
  ([maCross, rsiReversion, arbTaker] as unknown as Strategy[]).map((s) => [s.name, s]),
);

export class StrategyLoadError extends Error {}

export async function loadStrategy(nameOrPath: string): Promise<Strategy> {
  const builtIn = BUILT_IN[nameOrPath];
  if (builtIn) return builtIn;
  if (!/[/\\.]/.test(nameOrPath)) throw new StrategyLoadError(`unknown strategy ${JSON.stringify(nameOrPath)} (built in: ${Object.keys(BUILT_IN).join(', ')}; or give a path to a .ts module)`);
  let mod: Record<string, unknown>;
  try {
    // The CLI's bundle runs without a TypeScript loader: a user's .ts strategy needs one.
    if ((globalThis as Record<symbol, unknown>)[LOADER] === 'bundle' && /\.[cm]?ts$/.test(nameOrPath)) await useTypeScript();
    mod = (await import(pathToFileURL(path.resolve(nameOrPath)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new StrategyLoadError(`cannot load strategy module ${nameOrPath}: ${firstLine(err)}`);
  }
  // A module Node loaded as CommonJS arrives as { default: module.exports }: its exports are one level down.
  const exported = [mod, ...(typeof mod.default === 'object' && mod.default !== null ? [mod.default as Record<string, unknown>] : [])];
  const found = exported.flatMap((m) => [m.default, ...Object.values(m)]).find((v): v is Strategy => {
    const s = v as Strategy;
    return typeof v === 'object' && v !== null && typeof s.name === 'string' && typeof s.params === 'object' && s.params !== null
      && typeof s.decide === 'function' && typeof s.init === 'function';
  });
  if (!found) throw new StrategyLoadError(`${nameOrPath} exports no strategy (an object with name, params, init and decide)`);
  return found;
}

/** What went wrong, in one line: a TypeScript syntax error's own line (`<file>:<line>:<col>: ERROR: …`), not esbuild's "Transform failed" heading above it. */
function firstLine(err: unknown): string {
  const lines = String((err as Error).message ?? err).split('\n');
  return (/^Transform failed/.test(lines[0]!) ? lines.find((l) => / ERROR: /.test(l)) : undefined) ?? lines[0]!;
}
