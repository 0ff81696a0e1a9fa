/**
 * The pure core stays pure (DESIGN.md §2): the adapters, the engine, the log types, the
 * simulated market and the strategies' deciders and execution import no I/O library and
 * never read a clock or a random source. Only the edges (recorder/, replayer/, src/storage/,
 * src/cli/, src/importers/) may.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.ts';

const PURE = ['src/engine', 'src/exchanges', 'src/log', 'src/market', 'src/sim', 'strategies'];
/** Strategy loading by path is I/O by nature; it lives beside the strategies but is an edge. */
const EDGE_FILES = new Set(['strategies/registry.ts']);
const FORBIDDEN: [RegExp, string][] = [
  [/from '(node:)?(fs|net|http|https|child_process|worker_threads|zlib|dgram|os)'/, 'an I/O module'],
  [/from '(ws|kafkajs|better-sqlite3|hyparquet|hyparquet-writer|prom-client|yargs)'/, 'an I/O library'],
  [/\bDate\.now\(|\bnew Date\(\)|performance\.now\(|process\.hrtime/, 'the wall clock'],
  [/\bsetTimeout\(|\bsetInterval\(/, 'a timer'],
  [/\bMath\.random\(/, 'an unseeded random source'],
];

function files(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

describe('module boundaries', () => {
  it('keeps I/O, clocks, timers and randomness out of the pure core', () => {
    const offences: string[] = [];
    const checked = PURE.flatMap(files).filter((f) => !EDGE_FILES.has(f));
    expect(checked.length).toBeGreaterThan(20);
    for (const f of checked) {
      const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
      for (const [re, what] of FORBIDDEN) if (re.test(text)) offences.push(`${f} uses ${what}: ${re.exec(text)![0]}`);
    }
    expect(offences).toEqual([]);
  });
});
