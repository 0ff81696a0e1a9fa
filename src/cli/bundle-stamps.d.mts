/** Types of bundle-stamps.mjs (plain JavaScript, so that the launcher can use it before tsx). */
export interface Stamp {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
}
export const DEFAULT_CACHE: string;
export const SUSPECT_MS: number;
export function stampsFresh(inputs: unknown): boolean;
export const EDITED: unique symbol;
export function buildStamps(inputs: readonly string[], workDir: string, started: number): Stamp[] | typeof EDITED;
export function usesImportMeta(text: string): boolean;
export function readJson(file: string): unknown;
export function writeAtomic(file: string, text: string): void;
export function bundleName(entry: string): string;
export function freshBundleEntry(cacheDir: string, name: string): URL | undefined;
