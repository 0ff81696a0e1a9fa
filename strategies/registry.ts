/** The example strategies by name; anything else is a path to a module exporting a Strategy. */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LOADER, useTypeScript } from '../src/cli/typescript.mjs';
import { arbTaker } from './arb-taker.ts';
import { maCross } from './ma-cross.ts';
import { rsiReversion } from './rsi-reversion.ts';
import { shown } from './shown.ts';
import type { ParamRule, ParamSpec, ParamValue, Strategy } from './types.ts';

export const BUILT_IN: Record<string, Strategy> = Object.fromEntries(
  ([maCross, rsiReversion, arbTaker] as unknown as Strategy[]).map((s) => [s.name, s]),
);

export class StrategyLoadError extends Error {}

export async function loadStrategy(nameOrPath: string): Promise<Strategy> {
  // Own names only: `--strategy constructor` found Object's constructor.
  if (Object.hasOwn(BUILT_IN, nameOrPath)) return BUILT_IN[nameOrPath]!;
  if (!/[/\\.]/.test(nameOrPath)) throw new StrategyLoadError(`unknown strategy ${JSON.stringify(nameOrPath)} (built in: ${Object.keys(BUILT_IN).join(', ')}; or give a path to a .ts module)`);
  let mod: Record<string, unknown>;
  try {
    // The CLI's bundle runs without a TypeScript loader: a user's .ts strategy needs one.
    if ((globalThis as Record<symbol, unknown>)[LOADER] === 'bundle' && /\.[cm]?ts$/.test(nameOrPath)) await useTypeScript();
    mod = (await import(pathToFileURL(path.resolve(nameOrPath)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new StrategyLoadError(`cannot load strategy module ${nameOrPath}: ${(await syntaxErrorAt(nameOrPath, err)) ?? firstLine(err)}`);
  }
  // A module Node loaded as CommonJS arrives as { default: module.exports }: its exports are one level down.
  const exported = [mod, ...(typeof mod.default === 'object' && mod.default !== null ? [mod.default as Record<string, unknown>] : [])];
  const found = exported.flatMap((m) => [m.default, ...Object.values(m)]).find((v): v is Strategy => {
    const s = v as Strategy;
    return typeof v === 'object' && v !== null && typeof s.name === 'string' && typeof s.params === 'object' && s.params !== null
      && typeof s.decide === 'function' && typeof s.init === 'function';
  });
  if (!found) throw new StrategyLoadError(`${nameOrPath} exports no strategy (an object with name, params, init and decide)`);
  // A manifest records a strategy by name, and verify re-runs a built-in name as the built-in:
  // a module of that name would be checked against code it is not.
  if (Object.hasOwn(BUILT_IN, found.name)) throw new StrategyLoadError(`strategy file ${nameOrPath} calls itself ${found.name}, the name of a built-in strategy: give it a name of its own`);
  const problem = declarationProblem(found);
  if (problem !== undefined) throw new StrategyLoadError(`${nameOrPath}: strategy ${found.name} ${problem}`);
  return found;
}

/**
 * What is wrong with how a strategy declares its parameters, rules and needs, or undefined.
 * Checked at load, so that it is one line before anything runs: `params: { a: null }` failed
 * with "Cannot read properties of null (reading 'default')".
 */
function declarationProblem(s: Strategy): string | undefined {
  for (const [k, spec] of Object.entries(s.params as Record<string, unknown>)) {
    const p = spec as ParamSpec;
    if (typeof spec !== 'object' || spec === null) return `declares parameter ${k} as ${shown(spec)}, not { default, describe, range? }`;
    const d: unknown = p.default;
    if (!(typeof d === 'string' || typeof d === 'boolean' || (typeof d === 'number' && Number.isFinite(d)))) return `declares parameter ${k} with default ${shown(d)}, not a finite number, text or true/false`;
    if (p.range !== undefined && (typeof p.range !== 'object' || p.range === null || typeof p.range.problem !== 'function' || typeof p.range.must !== 'string')) {
      return `declares parameter ${k} with range ${shown(p.range)}, not { must, problem } (see the helpers in strategies/params.ts)`;
    }
  }
  if (s.rules !== undefined && !(Array.isArray(s.rules) && s.rules.every((r: unknown) => {
    const rule = r as ParamRule<Record<string, ParamValue>>;
    return typeof r === 'object' && r !== null && Array.isArray(rule.params) && typeof rule.must === 'string' && typeof rule.holds === 'function';
  }))) return `declares rules ${shown(s.rules)}, not a list of { params, must, holds }`;
  if (s.needs !== undefined && typeof s.needs !== 'function') return `declares needs ${shown(s.needs)}, not a function`;
  return undefined;
}

/**
 * Where a JavaScript module's syntax error is, as a TypeScript one is said
 * (`<file>:<line>:<col>: ERROR: …`, esbuild's place: the column counted from 0): Node names no place for an ES module's ("Unexpected token
 * ','" and nothing else) and keeps a CommonJS one's out of the message. esbuild (the bundle's
 * and tsx's compiler) reads the file again to find it; undefined when it finds nothing wrong.
 */
async function syntaxErrorAt(file: string, err: unknown): Promise<string | undefined> {
  if (!(err instanceof SyntaxError) || !/\.[cm]?js$/.test(file)) return undefined;
  try {
    const { transform } = await import('esbuild');
    await transform(await fs.promises.readFile(file, 'utf8'), { loader: 'js', sourcefile: file, logLevel: 'silent' });
  } catch (e) {
    const m = (e as { errors?: { text: string; location?: { line: number; column: number } | null }[] }).errors?.[0];
    if (m?.location) return `${file}:${m.location.line}:${m.location.column}: ERROR: ${m.text}`;
  }
  return undefined;
}

/** What went wrong, in one line: a TypeScript syntax error's own line (`<file>:<line>:<col>: ERROR: …`), not esbuild's "Transform failed" heading above it. */
function firstLine(err: unknown): string {
  const lines = String((err as Error).message ?? err).split('\n');
  return (/^Transform failed/.test(lines[0]!) ? lines.find((l) => / ERROR: /.test(l)) : undefined) ?? lines[0]!;
}
