/**
 * Reads a raw archive as one ordered stream of LogEvents:
 *   files of a session → merged by ingest_seq (de-duplicated by it) → sessions merged by
 *   (recv_ns, session, ingest_seq).
 * So the order depends on the events alone, never on how they were cut into files, and
 * at most one file per session is held in memory.
 */
import type { LogEvent } from '../src/log/event.ts';
import { compareLogOrder } from '../src/log/event.ts';
import { archiveFileRows, listArchiveFiles, readArchiveFile } from '../src/storage/archive-read.ts';
import { readParquet } from '../src/storage/parquet.ts';
import { mergeSorted } from './merge.ts';

export interface ArchivePlan {
  /** session → its files. */
  readonly sessions: Map<string, string[]>;
  /** Total LogEvents, from the files' footers. */
  readonly rows: number;
}

/** Lists the archive and learns each file's session from its first row (keeping only `only`, if given). */
export async function planArchive(root: string, only?: readonly string[]): Promise<ArchivePlan> {
  const files = listArchiveFiles(root);
  const sessions = new Map<string, string[]>();
  let rows = 0;
  for (const f of files) {
    const n = await archiveFileRows(f);
    if (n === 0) continue;
    const [first] = await readParquet(f, ['session'], 1).catch(() => [undefined]);
    const s = typeof first?.session === 'string' ? first.session : f;
    if (only !== undefined && !only.includes(s)) continue;
    let list = sessions.get(s);
    if (list === undefined) sessions.set(s, (list = []));
    list.push(f);
    rows += n;
  }
  return { sessions, rows };
}

async function* fileEvents(file: string): AsyncGenerator<LogEvent> {
  yield* await readArchiveFile(file);
}

const bySeq = (a: LogEvent, b: LogEvent): number => (a.session === b.session ? a.ingestSeq - b.ingestSeq : a.session < b.session ? -1 : 1);

/** One session's events in ingest order, each (session, ingest_seq) once. */
async function* sessionEvents(files: readonly string[]): AsyncGenerator<LogEvent> {
  let prev: LogEvent | undefined;
  for await (const ev of mergeSorted(files.map(fileEvents), bySeq)) {
    if (prev !== undefined && prev.session === ev.session && prev.ingestSeq === ev.ingestSeq) continue;
    prev = ev;
    yield ev;
  }
}

/** The whole archive in replay order, optionally limited to receive times in [startNs, endNs). */
export async function* readArchive(plan: ArchivePlan, range: { startNs?: bigint; endNs?: bigint } = {}): AsyncGenerator<LogEvent> {
  const names = [...plan.sessions.keys()].sort();
  const streams = names.map((s) => sessionEvents(plan.sessions.get(s)!));
  for await (const ev of mergeSorted(streams, compareLogOrder)) {
    if (range.startNs !== undefined && ev.recvNs < range.startNs) continue;
    if (range.endNs !== undefined && ev.recvNs >= range.endNs) continue;
    yield ev;
  }
}
