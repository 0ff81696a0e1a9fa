/**
 * Archive codec and layout, by measurement: writes the real BTCUSDT hftbacktest session
 * (99,574 events) with each candidate codec/encoding/page size and prints size, write
 * rows/s and read rows/s (hyparquet, with ARCHIVE_DECOMPRESSORS), beside the JSON-lines and
 * gzip sizes the archive must beat.
 *
 *   node --import tsx test/bench/archive-codecs.ts            # every candidate
 *   node --import tsx test/bench/archive-codecs.ts zstd       # only rows whose name has "zstd"
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { asyncBufferFromFile, parquetReadObjects, type CompressionCodec, type Encoding } from 'hyparquet';
import type { LogEvent } from '../../src/log/event.ts';
import { ArchiveWriter, ARCHIVE_ENCODINGS } from '../../src/storage/archive.ts';
import { ARCHIVE_DECOMPRESSORS, compressorsAt } from '../../src/storage/codecs.ts';
import { listArchiveFiles, readArchiveFile } from '../../src/storage/archive-read.ts';
import { importRecordings } from '../../src/importers/import.ts';

const real = process.env.TAPEDECK_REAL_FIXTURES ?? '/work/shared/fixtures/real';
const inputs = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => path.join(real, 'binance/hftbacktest', f));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-codecs-'));

// The session as LogEvents, via the importer itself (whatever it writes, we read back).
const [s] = await importRecordings(inputs, { format: 'hftbacktest', out: path.join(tmp, 'src') });
const events: LogEvent[] = [];
for (const f of listArchiveFiles(path.join(tmp, 'src'))) events.push(...await readArchiveFile(f));
events.sort((a, b) => a.ingestSeq - b.ingestSeq);

const jsonl = events.map((e) => JSON.stringify({ ...e, recvNs: e.recvNs.toString() })).join('\n');
const jsonBytes = Buffer.byteLength(jsonl);
const gzBytes = inputs.reduce((n, f) => n + fs.statSync(f).size, 0);
console.log(`${s!.session}: ${events.length} events; JSON lines ${(jsonBytes / 1e6).toFixed(2)} MB; recorder gzip ${(gzBytes / 1e6).toFixed(2)} MB; JSON lines gzip -6 ${(zlib.gzipSync(jsonl).length / 1e6).toFixed(2)} MB\n`);

interface Candidate {
  name: string;
  codec: CompressionCodec;
  level?: { zstd?: number; gzip?: number; brotli?: number };
  encodings?: Record<string, Encoding | undefined>;
  pageSize?: number;
  rowGroupRows?: number;
  rowGroupChars?: number;
  /** Cluster payloads by stream within the file (changes row order: informational only). */
  cluster?: boolean;
}

const PLAIN: Record<string, Encoding | undefined> = {};
const DLBA = { ...ARCHIVE_ENCODINGS, payload: 'DELTA_LENGTH_BYTE_ARRAY' as Encoding };
const candidates: Candidate[] = [
  { name: 'SNAPPY, auto encodings (before)', codec: 'SNAPPY', encodings: PLAIN, rowGroupRows: 100_000 },
  { name: 'SNAPPY, dict + delta', codec: 'SNAPPY' },
  { name: 'GZIP-6, dict + delta', codec: 'GZIP', level: { gzip: 6 } },
  { name: 'GZIP-9, dict + delta', codec: 'GZIP', level: { gzip: 9 } },
  { name: 'BROTLI-5, dict + delta', codec: 'BROTLI', level: { brotli: 5 } },
  { name: 'BROTLI-9, dict + delta', codec: 'BROTLI', level: { brotli: 9 } },
  { name: 'ZSTD-1, dict + delta', codec: 'ZSTD', level: { zstd: 1 } },
  { name: 'ZSTD-2, dict + delta', codec: 'ZSTD', level: { zstd: 2 } },
  { name: 'ZSTD-3, dict + delta', codec: 'ZSTD', level: { zstd: 3 } },
  { name: 'ZSTD-5, dict + delta', codec: 'ZSTD', level: { zstd: 5 } },
  { name: 'ZSTD-9, dict + delta', codec: 'ZSTD', level: { zstd: 9 } },
  { name: 'ZSTD-15, dict + delta', codec: 'ZSTD', level: { zstd: 15 } },
  { name: 'ZSTD-19, dict + delta', codec: 'ZSTD', level: { zstd: 19 } },
  { name: 'ZSTD-1, 4 MiB pages, 8 Mi-char row groups', codec: 'ZSTD', level: { zstd: 1 }, pageSize: 4 << 20, rowGroupChars: 8 << 20 },
  { name: 'ZSTD-9, auto encodings', codec: 'ZSTD', level: { zstd: 9 }, encodings: PLAIN },
  { name: 'ZSTD-9, payload DELTA_LENGTH_BYTE_ARRAY', codec: 'ZSTD', level: { zstd: 9 }, encodings: DLBA },
  { name: 'ZSTD-9, 4 MiB pages', codec: 'ZSTD', level: { zstd: 9 }, pageSize: 4 << 20 },
  { name: 'ZSTD-9, 16 MiB pages', codec: 'ZSTD', level: { zstd: 9 }, pageSize: 16 << 20 },
  { name: 'ZSTD-9, 16 MiB pages, 100k-row groups', codec: 'ZSTD', level: { zstd: 9 }, pageSize: 16 << 20, rowGroupRows: 100_000 },
  { name: 'ZSTD-12, 16 MiB pages', codec: 'ZSTD', level: { zstd: 12 }, pageSize: 16 << 20 },
  { name: 'ZSTD-15, 16 MiB pages', codec: 'ZSTD', level: { zstd: 15 }, pageSize: 16 << 20 },
  { name: 'ZSTD-17, dict + delta', codec: 'ZSTD', level: { zstd: 17 } },
  { name: 'ZSTD-9, payload DELTA_BYTE_ARRAY', codec: 'ZSTD', level: { zstd: 9 }, encodings: { ...ARCHIVE_ENCODINGS, payload: 'DELTA_BYTE_ARRAY' } },
  { name: 'ZSTD-9, 16 MiB pages, clustered by stream*', codec: 'ZSTD', level: { zstd: 9 }, pageSize: 16 << 20, cluster: true },
];

const only = process.argv[2]?.toLowerCase();
const rows: string[][] = [['candidate', 'MB', 'vs JSONL', 'vs gzip', 'write rows/s', 'read rows/s']];
for (const c of candidates.filter((x) => !only || x.name.toLowerCase().includes(only))) {
  const dir = path.join(tmp, c.name.replace(/[^a-z0-9]+/gi, '_'));
  const input = c.cluster ? clustered(events) : events;
  const t0 = performance.now();
  const w = new ArchiveWriter(dir, s!.session, {
    codec: c.codec, compressors: compressorsAt(c.level), ...(c.encodings ? { encodings: c.encodings } : {}),
    ...(c.pageSize ? { pageSize: c.pageSize } : {}), ...(c.rowGroupRows ? { rowGroupRows: c.rowGroupRows } : {}),
    ...(c.rowGroupChars ? { rowGroupChars: c.rowGroupChars } : {}),
  });
  for (const ev of input) w.write(ev);
  const files = w.close();
  const writeS = (performance.now() - t0) / 1000;
  const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const t1 = performance.now();
  let n = 0;
  for (const f of files) n += (await parquetReadObjects({ file: await asyncBufferFromFile(f), compressors: ARCHIVE_DECOMPRESSORS })).length;
  const readS = (performance.now() - t1) / 1000;
  if (n !== events.length) throw new Error(`${c.name}: read ${n} rows, wrote ${events.length}`);
  rows.push([c.name, (bytes / 1e6).toFixed(2), `${(jsonBytes / bytes).toFixed(1)}×`, `${(gzBytes / bytes).toFixed(2)}×`,
    Math.round(events.length / writeS).toLocaleString('en'), Math.round(events.length / readS).toLocaleString('en')]);
  fs.rmSync(dir, { recursive: true, force: true });
}
const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((x, j) => (j === 0 ? x.padEnd(widths[j]!) : x.padStart(widths[j]!))).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((w, j) => (j === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
}
console.log('\n* clustered rows are not in ingest order; shown for what ordering is worth, not used.');
fs.rmSync(tmp, { recursive: true, force: true });

/** Rows grouped by stream (the payload's first 40 characters), ingest order within each. */
function clustered(evs: readonly LogEvent[]): LogEvent[] {
  const key = (e: LogEvent): string => e.payload.slice(0, 40);
  return [...evs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.ingestSeq - b.ingestSeq));
}
