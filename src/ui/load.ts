/**
 * A finished run's output directory (`manifest.json` + the tables as Parquet) into the
 * dashboard: the same rows, read back, that a live page would have been sent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { intervalName } from '../engine/config.ts';
import { readParquet } from '../storage/parquet.ts';
import { indicatorColumns, readManifest, type Manifest } from '../storage/run.ts';
import { toWire, UI_TABLES, type UiInfo, type UiHub } from './hub.ts';

export function isOutputDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'manifest.json'));
}

export function outputInfo(dir: string): { manifest: Manifest; info: UiInfo } {
  const manifest = readManifest(dir);
  return {
    manifest,
    info: { source: dir, mode: 'static', intervals: manifest.engine.intervalsMs.map(intervalName), indicators: indicatorColumns(manifest.engine) },
  };
}

export async function loadOutputs(dir: string, manifest: Manifest, hub: UiHub): Promise<void> {
  const columns = indicatorColumns(manifest.engine);
  hub.expect(manifest.events, manifest.events);
  for (const table of UI_TABLES) {
    const file = path.join(dir, `${table}.parquet`);
    if (!fs.existsSync(file)) continue;
    for (const row of await readParquet(file)) {
      if (table === 'indicators') {
        // The Parquet file has one column per indicator; the row type keeps them in `values`.
        const values = Object.fromEntries(columns.map((c) => [c, (row[c] ?? null) as number | null]));
        for (const c of columns) delete row[c];
        hub.add(table, toWire({ ...row, values }));
      } else {
        hub.add(table, toWire(row));
      }
    }
  }
}
