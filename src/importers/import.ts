/**
 * `tapedeck import`: turns recordings made by other tools into a tapedeck raw archive.
 * Files of one recording become one session, in order (the two BTCUSDT hftbacktest files
 * are one continuous session). A line that cannot be read is kept as an `error` event
 * carrying the line itself, so nothing recorded is lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';
import type { LogEvent } from '../log/event.ts';
import { nsToIso } from '../log/time.ts';
import { ArchiveWriter } from '../storage/archive.ts';
import { LineError, cryptofeedFileInfo, parseCryptofeedLine, parseHftbacktestLine, type ImportedLine } from './formats.ts';

export type ImportFormat = 'hftbacktest' | 'cryptofeed';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['hftbacktest', 'cryptofeed'];

export interface ImportOptions {
  readonly format: ImportFormat;
  readonly out: string;
  /** Exchange for hftbacktest files (its collector records Binance spot by default). */
  readonly exchange?: string;
  readonly maxRows?: number;
}

export interface ImportedSession {
  readonly session: string;
  readonly exchange: string;
  readonly inputs: string[];
  readonly events: number;
  readonly byKind: Record<string, number>;
  readonly badLines: number;
  readonly skipped: number;
  readonly files: string[];
}

/** A problem with the user's input that deserves one line, not a stack trace. */
export class ImportError extends Error {}

interface Group {
  readonly recording: string;
  readonly exchange: string;
  readonly files: { file: string; conn: string }[];
}

export async function importRecordings(files: readonly string[], opts: ImportOptions): Promise<ImportedSession[]> {
  for (const f of files) if (!fs.existsSync(f)) throw new ImportError(`no such file: ${f}`);
  const groups = opts.format === 'hftbacktest' ? groupHftbacktest(files, opts.exchange ?? 'binance') : groupCryptofeed(files);
  const out: ImportedSession[] = [];
  for (const g of groups) out.push(await importGroup(g, opts));
  return out;
}

/** `btcusdt_20240808.gz` + `btcusdt_20240809.gz` → one recording `btcusdt`, in date order. */
function groupHftbacktest(files: readonly string[], exchange: string): Group[] {
  const groups = new Map<string, Group>();
  for (const file of files) {
    const base = path.basename(file);
    const m = /^(.+?)_(\d{8})(?:\.\w+)*$/.exec(base);
    const recording = (m ? m[1]! : base.replace(/\..*$/, '')).toLowerCase();
    let g = groups.get(recording);
    if (g === undefined) groups.set(recording, (g = { recording, exchange, files: [] }));
    g.files.push({ file, conn: 'ws.0' });
  }
  for (const g of groups.values()) g.files.sort((a, b) => (path.basename(a.file) < path.basename(b.file) ? -1 : 1));
  return [...groups.values()];
}

function groupCryptofeed(files: readonly string[]): Group[] {
  const groups = new Map<string, Group>();
  for (const file of files) {
    const info = cryptofeedFileInfo(path.basename(file));
    if (info === undefined) {
      throw new ImportError(`${file}: not a cryptofeed raw file name (expected e.g. COINBASE.ws.28.0 or BINANCE-ee25be.0)`);
    }
    let g = groups.get(info.recording);
    if (g === undefined) groups.set(info.recording, (g = { recording: info.recording, exchange: info.exchange, files: [] }));
    g.files.push({ file, conn: info.conn });
  }
  for (const g of groups.values()) g.files.sort((a, b) => (a.file < b.file ? -1 : 1));
  return [...groups.values()];
}

interface Pending extends ImportedLine {
  readonly conn: string;
}

async function importGroup(g: Group, opts: ImportOptions): Promise<ImportedSession> {
  // cryptofeed keeps a recording's connections in separate files: merge them by receive time
  // (stable, so equal times keep file order). hftbacktest files simply follow each other.
  const lines: Pending[] = [];
  let badLines = 0;
  let skipped = 0;
  for (const { file, conn } of g.files) {
    let lineNo = 0;
    let connNo = -1;
    let lastNs = lines.length > 0 ? lines[lines.length - 1]!.recvNs : 0n;
    for await (const line of readLines(file)) {
      lineNo++;
      if (line === '') continue;
      try {
        const rec = opts.format === 'hftbacktest' ? parseHftbacktestLine(line) : parseCryptofeedLine(line);
        if (rec === undefined) {
          skipped++;
          continue;
        }
        if (rec.kind === 'open') connNo++;
        const c = conn !== '' ? conn : rec.kind === 'rest' ? 'http' : `ws.${Math.max(connNo, 0)}`;
        lines.push({ ...rec, conn: c });
        lastNs = rec.recvNs;
      } catch (err) {
        if (!(err instanceof LineError)) throw err;
        badLines++;
        lines.push({ kind: 'error', recvNs: lastNs, payload: line, meta: `${path.basename(file)}:${lineNo}: ${err.message}`, conn: conn || 'import' });
      }
    }
  }
  if (g.files.length > 1 && opts.format === 'cryptofeed') {
    lines.sort((a, b) => (a.recvNs < b.recvNs ? -1 : a.recvNs > b.recvNs ? 1 : 0));
  }
  const first = lines[0];
  if (first === undefined) throw new ImportError(`${g.files.map((f) => f.file).join(', ')}: no events`);
  const session = `${opts.format}-${g.recording.toLowerCase().replace(/[^a-z0-9._-]/g, '_')}-${compactTime(first.recvNs)}`;
  const writer = new ArchiveWriter(opts.out, session, opts.maxRows !== undefined ? { maxRows: opts.maxRows } : {});
  const byKind: Record<string, number> = {};
  lines.forEach((l, i) => {
    const ev: LogEvent = { session, ingestSeq: i, recvNs: l.recvNs, exchange: g.exchange, conn: l.conn, kind: l.kind, payload: l.payload, meta: l.meta };
    byKind[l.kind] = (byKind[l.kind] ?? 0) + 1;
    writer.write(ev);
  });
  const written = writer.close();
  return { session, exchange: g.exchange, inputs: g.files.map((f) => f.file), events: lines.length, byKind, badLines, skipped, files: written };
}

function compactTime(ns: bigint): string {
  return nsToIso(ns).replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

async function* readLines(file: string): AsyncGenerator<string> {
  let input: NodeJS.ReadableStream = fs.createReadStream(file);
  if (file.endsWith('.gz')) input = input.pipe(zlib.createGunzip());
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of rl) yield line;
  } catch (err) {
    throw new ImportError(`${file}: cannot read (${(err as Error).message})`);
  }
}
