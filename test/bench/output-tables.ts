/**
 * `node --import tsx test/bench/output-tables.ts [archive, default: a generated 1M-event demo] [--windows 10s,1m,5m]`:
 * what writing a run's output tables costs, by stage: the canonical order, the canonical
 * digest and the Parquet files (src/storage/outputs.ts). The tables are a replay's (in
 * process, the decoded-event cache off), folded with `--windows` (default 10s,1m,5m, what
 * ma-cross folds: six times the candles and indicators of the default windows); then each
 * stage is timed five times over the same tables, and the digests are checked against the
 * replay's manifest.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { replay } from '../../replayer/replay.ts';
import { generateArchive } from '../../src/cli/demo.ts';
import { DEFAULT_CONFIG, parseWindows } from '../../src/engine/config.ts';
import type { TableName } from '../../src/engine/rows.ts';
import { canonicalRows, digestRows, tableColumns, writeTables } from '../../src/storage/outputs.ts';
import { writeParquet } from '../../src/storage/parquet.ts';
import { indicatorColumns } from '../../src/storage/run.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--windows');
const windows = at >= 0 ? args[at + 1]! : '10s,1m,5m';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-outputs-'));
try {
  let archive = args.find((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1));
  if (archive === undefined) {
    archive = path.join(tmp, 'raw');
    generateArchive({ minutes: 600, out: archive });
  }
  process.env.TAPEDECK_DECODE_CACHE = 'off';
  const config = { ...DEFAULT_CONFIG, intervalsMs: parseWindows(windows) };
  const run = await replay({ from: archive, out: path.join(tmp, 'run'), speed: 'max', config });
  const cols = indicatorColumns(config);
  const names = Object.keys(run.tables) as TableName[];
  const rows = names.reduce((n, t) => n + run.tables[t].length, 0);
  console.log(`${rows.toLocaleString('en-US')} output rows (${names.map((t) => `${t} ${run.tables[t].length}`).join(', ')}), windows ${windows}`);
  for (let i = 0; i < 5; i++) {
    const ms = { order: 0, digest: 0, parquet: 0 };
    for (const name of names) {
      const columns = tableColumns(name, cols);
      let t = performance.now();
      const sorted = canonicalRows(name, run.tables[name]);
      ms.order += performance.now() - t;
      t = performance.now();
      digestRows(sorted, columns);
      ms.digest += performance.now() - t;
      t = performance.now();
      writeParquet(path.join(tmp, 'stages', `${name}.parquet`), columns, sorted, { table: name });
      ms.parquet += performance.now() - t;
    }
    const t = performance.now();
    const written = writeTables(path.join(tmp, 'all'), run.tables, cols, names);
    const all = performance.now() - t;
    const same = names.every((n) => written[n]!.sha256 === run.manifest.tables[n]!.sha256);
    console.log(`canonical order ${ms.order.toFixed(1)} ms, digest ${ms.digest.toFixed(1)} ms, Parquet ${ms.parquet.toFixed(1)} ms; writeTables ${all.toFixed(1)} ms (${(1000 * all / rows).toFixed(1)} µs a row); digests ${same ? 'equal the replay\'s' : 'DIFFER from the replay\'s'}`);
    if (!same) process.exitCode = 1;
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
