/**
 * Import throughput on the real BTCUSDT hftbacktest session (two gzip files, 99,574 lines),
 * or on the files given as arguments. Profile it with:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx test/bench/import-profile.ts
 *
 * and open the .cpuprofile in Chrome DevTools (Performance tab) or speedscope.
 * `--format cryptofeed` switches the format; `--repeat N` imports N times (steadier figures).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importRecordings, type ImportFormat } from '../../src/importers/import.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = args[i + 1]!;
  args.splice(i, 2);
  return v;
};
const format = opt('format', 'hftbacktest') as ImportFormat;
const repeat = Number(opt('repeat', '1'));
const real = process.env.TAPEDECK_REAL_FIXTURES ?? '/work/shared/fixtures/real';
const files = args.length > 0 ? args : ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => path.join(real, 'binance/hftbacktest', f));

for (let r = 0; r < repeat; r++) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-import-bench-'));
  const t0 = process.hrtime.bigint();
  const sessions = await importRecordings(files, { format, out });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const events = sessions.reduce((n, x) => n + x.events, 0);
  let bytes = 0;
  for (const x of sessions) for (const f of x.files) bytes += fs.statSync(f).size;
  console.log(`import ${format}: ${events} events in ${s.toFixed(2)} s = ${Math.round(events / s).toLocaleString('en')} lines/s; archive ${(bytes / 1e6).toFixed(2)} MB`);
  fs.rmSync(out, { recursive: true, force: true });
}
