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
    throw new StrategyLoadError(`cannot load strategy module ${nameOrPath}: ${(err as Error).message.split('\n')[0]}`);
  }
  const found = [mod.default, ...Object.values(mod)].find((v): v is Strategy =>
    typeof v === 'object' && v !== null && typeof (v as Strategy).decide === 'function' && typeof (v as Strategy).init === 'function');
  if (!found) throw new StrategyLoadError(`${nameOrPath} exports no strategy (an object with name, params, init and decide)`);
  return found;
}
