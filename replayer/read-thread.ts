/**
 * The archive read on the second core: a worker thread reads, decompresses and merges the
 * Parquet files (read.ts, unchanged) and hands the main thread batches of LogEvents in a
 * compact form, so the main thread only folds. Reading was ~40 % of a replay's time on
 * one thread (issue 9); on its own thread it overlaps the fold.
 *
 * The order and content of the events are read.ts's by construction: the worker runs the
 * same merge and sends every event it yields, in order, in the compact form read-wire.ts
 * defines. It runs at most CREDIT batches ahead, so memory stays bounded whatever the
 * archive's length; it starts from a bundle of its TypeScript when one can be had
 * (worker-entry.ts).
 */
import type { LogEvent } from '../src/log/event.ts';
import { ArchiveError } from '../src/storage/archive.ts';
import type { ArchivePlan, TimeRange } from './read.ts';
import { WireDecoder, type ReadThreadInput, type WireMessage } from './read-wire.ts';
import { READER_HEAP, startReaderThread } from './reader-thread.ts';

/**
 * The archive in replay order, as read.ts's readArchiveBatches gives it, read on a worker
 * thread. The worker stops when the stream ends, fails, or the consumer stops early.
 */
export async function* readArchiveThreaded(plan: ArchivePlan, range: TimeRange = {}, opts: { heapMb?: number } = {}): AsyncGenerator<LogEvent[]> {
  const heap = { ...READER_HEAP, ...(opts.heapMb !== undefined ? { maxOldGenerationSizeMb: opts.heapMb } : {}) };
  const workerData: ReadThreadInput = { plan, range };
  const thread = startReaderThread<WireMessage>(
    new URL('./read-thread.worker.ts', import.meta.url), new URL('./read-thread.worker.mjs', import.meta.url), workerData, heap, 'the archive reader thread',
    (mb) => new ArchiveError(`the archive reader thread ran out of its ${mb} MB heap (rows larger than tapedeck writes?); replay with TAPEDECK_READ_THREAD=0 to read in line`),
  );
  const decoder = new WireDecoder();
  try {
    for (;;) {
      const m = await thread.next();
      if ('done' in m) return;
      if ('error' in m) throw m.error.name === 'ArchiveError' ? new ArchiveError(m.error.message) : new Error(m.error.message);
      thread.ack();
      yield decoder.decode(m.batch);
    }
  } finally {
    await thread.stop();
  }
}
