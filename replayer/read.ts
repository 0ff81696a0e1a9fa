/**
 * Reads a raw archive as one ordered stream of LogEvents:
 *   files of a session → merged by ingest_seq (de-duplicated by it) → sessions merged by
 *   (recv_ns, session, ingest_seq).
 * So the order depends on the events alone, never on how they were cut into files. Both
 * merges are lazy (a file is opened when the merge reaches its first row) and a file is
 * read a row group at a time, so memory holds only the row groups that overlap in time,
 * whatever the archive's length. Events flow in batches: one await per batch, not per event.
 */
import type { LogEvent } from '../src/log/event.ts';
import { compareLogOrder, sameLogEvent } from '../src/log/event.ts';
import { archiveFileBatches, archiveFileHead, listArchiveFiles, overlaps, type ArchiveFileHead, type RecvWindow } from '../src/storage/archive-read.ts';
import { mergeBatches, type LazyInput } from './merge.ts';
import { ArchiveError } from '../src/storage/archive.ts';

export interface ArchivePlan {
  /** session → its files (with their first rows), in path order. */
  readonly sessions: Map<string, ArchiveFileHead[]>;
  /** Total LogEvents, from the files' footers. */
  readonly rows: number;
}

/** Lists the archive and reads each file's first row (keeping only sessions in `only`, if given). */
export async function planArchive(root: string, only?: readonly string[]): Promise<ArchivePlan> {
  const sessions = new Map<string, ArchiveFileHead[]>();
  let rows = 0;
  for (const f of listArchiveFiles(root)) {
    const head = await archiveFileHead(f);
    if (head === undefined) continue;
    const s = head.first.session;
    if (only !== undefined && !only.includes(s)) continue;
    let list = sessions.get(s);
    if (list === undefined) sessions.set(s, (list = []));
    list.push(head);
    rows += head.rows;
  }
  return { sessions, rows };
}

const bySeq = (a: LogEvent, b: LogEvent): number => a.ingestSeq - b.ingestSeq;

/**
 * One session's events in ingest order, each (session, ingest_seq) once. With a time range,
 * the files and row groups whose recv_ns statistics lie wholly outside it are not read: all
 * their rows would be filtered out (readArchiveBatches), and so would any copy of them in
 * another file, which has the same receive time.
 */
async function* sessionBatches(files: readonly ArchiveFileHead[], range: TimeRange): AsyncGenerator<LogEvent[]> {
  const ranged = range.startNs !== undefined || range.endNs !== undefined;
  const kept = ranged ? files.filter((h) => overlaps(h.recvNs, range)) : files;
  const inputs = kept.map((h): LazyInput<LogEvent> => ({ first: h.first, open: () => archiveFileBatches(h.file, ranged ? { window: range } : {}) }));
  // Before the first event: any number comes after it (another tool's files may start below 0).
  let prev = Number.NEGATIVE_INFINITY;
  let last: LogEvent | undefined;
  for await (const batch of mergeBatches(inputs, bySeq)) {
    // A row re-archived after a crash mid-roll is in two files, so comes twice in a row: keep it once.
    // Each file is in ingest_seq order (the merge's premise), so the session's stream never steps back.
    let i = 0;
    while (i < batch.length && batch[i]!.ingestSeq > prev) prev = batch[i++]!.ingestSeq;
    if (i > 0) last = batch[i - 1];
    if (i === batch.length) {
      yield batch;
      continue;
    }
    const kept = batch.slice(0, i);
    for (; i < batch.length; i++) {
      const ev = batch[i]!;
      if (ev.ingestSeq > prev) kept.push((last = ev));
      else if (ev.ingestSeq < prev) throw outOfOrder(ev, prev);
      else if (!sameLogEvent(ev, last!)) throw numberedTwice(ev);
      prev = ev.ingestSeq;
    }
    yield kept;
  }
}

/** A file whose rows are not in ingest_seq order (another tool rewrote it): its events were taken for repeats. */
function outOfOrder(ev: LogEvent, prev: number): ArchiveError {
  return new ArchiveError(`session ${ev.session}'s files are not in ingest_seq order (event ${ev.ingestSeq} after ${prev}): not as tapedeck writes them (rewritten by another tool?); sort each file by ingest_seq`);
}

/**
 * Two different events under one (session, ingest_seq): two recordings given one session id
 * (`record --session` twice, the same demo seed for other exchanges), read together. Keeping
 * either would silently drop the other's events.
 */
function numberedTwice(a: LogEvent): ArchiveError {
  return new ArchiveError(`session ${a.session} has two different events numbered ${a.ingestSeq} (two recordings under one session id?): replay them from separate folders`);
}

/** The first event of a session's stream: its files' least first row by (ingest_seq, path order). */
function sessionFirst(files: readonly ArchiveFileHead[]): LogEvent {
  let first = files[0]!.first;
  for (const h of files) if (h.first.ingestSeq < first.ingestSeq) first = h.first;
  return first;
}

/** Receive times [startNs, endNs) a replay keeps; either end open. */
export type TimeRange = RecvWindow;

/** The whole archive in replay order, in batches, optionally limited to receive times in [startNs, endNs). */
export async function* readArchiveBatches(plan: ArchivePlan, range: TimeRange = {}): AsyncGenerator<LogEvent[]> {
  const names = [...plan.sessions.keys()].sort();
  const inputs = names.map((s): LazyInput<LogEvent> => {
    const files = plan.sessions.get(s)!;
    return { first: sessionFirst(files), open: () => sessionBatches(files, range) };
  });
  const { startNs, endNs } = range;
  for await (const batch of mergeBatches(inputs, compareLogOrder)) {
    if (startNs === undefined && endNs === undefined) yield batch;
    else yield batch.filter((ev) => (startNs === undefined || ev.recvNs >= startNs) && (endNs === undefined || ev.recvNs < endNs));
  }
}

/** The whole archive in replay order, one event at a time (for tools; replay uses the batches). */
export async function* readArchive(plan: ArchivePlan, range: TimeRange = {}): AsyncGenerator<LogEvent> {
  for await (const batch of readArchiveBatches(plan, range)) yield* batch;
}
