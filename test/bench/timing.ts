import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** What the bench sections share: how a row is printed, and the median wall time of a few runs. */
export type Row = (label: string, value: string) => void;

export async function medianMs(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** Whether the module at `moduleUrl` is the script node was started with (run alone), not one bench.ts imported. */
export function runAlone(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && moduleUrl === pathToFileURL(path.resolve(process.argv[1])).href;
}
