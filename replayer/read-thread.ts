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
import { Worker } from 'node:worker_threads';
import type { LogEvent } from '../src/log/event.ts';
import { ArchiveError } from '../src/storage/archive.ts';
import type { ArchivePlan, TimeRange } from './read.ts';
import { WireDecoder, type ReadThreadInput, type WireMessage } from './read-wire.ts';
import { workerEntry } from './worker-entry.ts';

/**
 * The reader thread's heap. Its need does not grow with the archive (CREDIT batches, and
 * a slice of each open file's row group: a 1M-event demo archive reads in 40 MB of old
 * generation, not in 24), but V8 grows a heap lazily towards limits sized for the machine.
 * Measured side by side on that archive (Node 20, quiet machine, 3 runs each): no limits
 * 2.77–3.27 s and 295–337 MB peak RSS; 128 MB old + 16 MB young 3.21–4.01 s (a young
 * generation that small scavenges too often), 224–238 MB; 128 + 48 MB 2.98–3.04 s, 247–259 MB.
 */
export const READER_HEAP = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 48 } as const;

/**
 * The archive in replay order, as read.ts's readArchiveBatches gives it, read on a worker
 * thread. The worker stops when the stream ends, fails, or the consumer stops early.
 */
export async function* readArchiveThreaded(plan: ArchivePlan, range: TimeRange = {}, opts: { heapMb?: number } = {}): AsyncGenerator<LogEvent[]> {
  const heap = { ...READER_HEAP, ...(opts.heapMb !== undefined ? { maxOldGenerationSizeMb: opts.heapMb } : {}) };
  const workerData: ReadThreadInput = { plan, range };
  const entry = workerEntry(new URL('./read-thread.worker.ts', import.meta.url), new URL('./read-thread.worker.mjs', import.meta.url));
  const worker = new Worker(entry, { workerData, resourceLimits: heap });
  const inbox: WireMessage[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  worker.on('message', (m: WireMessage) => {
    inbox.push(m);
    notify();
  });
  worker.on('error', (err) => {
    failure ??= (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new ArchiveError(`the archive reader thread ran out of its ${heap.maxOldGenerationSizeMb} MB heap (rows larger than tapedeck writes?); replay with TAPEDECK_READ_THREAD=0 to read in line`)
      : err;
    notify();
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`the archive reader thread stopped (exit code ${code})`);
    notify();
  });
  const decoder = new WireDecoder();
  try {
    for (;;) {
      // Messages already received come before a failure noticed after them.
      while (inbox.length === 0 && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
      const m = inbox.shift();
      if (m === undefined) throw failure!;
      if ('done' in m) return;
      if ('error' in m) throw m.error.name === 'ArchiveError' ? new ArchiveError(m.error.message) : new Error(m.error.message);
      worker.postMessage(1);
      yield decoder.decode(m.batch);
    }
  } finally {
    worker.removeAllListeners();
    worker.on('error', () => {}); // whatever it says while stopping, the read is over
    await worker.terminate();
  }
}
