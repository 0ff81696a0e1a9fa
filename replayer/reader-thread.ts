/**
 * The folding thread's side of a reader thread: the archive's (read-thread.ts) and Kafka's
 * (kafka-thread.ts). It starts the worker from a bundle of its TypeScript when one can be
 * had (worker-entry.ts), hands over its messages in the order they came, turns the worker's
 * going away into an error after them (running out of its heap named as such, with what to
 * do), passes on the credit for each batch taken (read-wire.ts), and stops the worker.
 */
import { Worker } from 'node:worker_threads';
import { workerEntry } from './worker-entry.ts';

/**
 * A reader thread's heap. Its need does not grow with the input (CREDIT batches; a slice of
 * each open file's row group, or each partition's buffer and one fetch), but V8 grows a heap
 * lazily towards limits sized for the machine.
 * - Archive, measured side by side on the 1M-event demo archive (Node 20, quiet machine, 3
 *   runs each): no limits 2.77–3.27 s and 295–337 MB peak RSS; 128 MB old + 16 MB young
 *   3.21–4.01 s (a young generation that small scavenges too often), 224–238 MB; 128 + 48 MB
 *   2.98–3.04 s, 247–259 MB. It reads in 40 MB of old generation, not in 24.
 * - Kafka, on the 1M-event bench topic: 32 MB of old generation ran out, 48 did not; 128
 *   leaves room for records several times larger than the demo's.
 */
export const READER_HEAP = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 48 } as const;

export type ReaderHeap = { readonly maxOldGenerationSizeMb: number; readonly maxYoungGenerationSizeMb: number };

export interface ReaderThread<M> {
  /** The worker's next message; once there are none left, why the worker stopped. */
  next(): Promise<M>;
  /** Tells the worker a batch was taken: room for one more (read-wire.ts's credit). */
  ack(): void;
  /** Stops the worker; whatever it says while stopping is no one's concern. */
  stop(): Promise<void>;
}

/**
 * Starts the worker of `source` (`fallback` when no bundle can be had) with `workerData`.
 * `name` says which thread in errors ("the archive reader thread"); `outOfHeap` is the
 * error for a worker that ran out of its heap of `heap.maxOldGenerationSizeMb` MB.
 */
export function startReaderThread<M>(source: URL, fallback: URL, workerData: unknown, heap: ReaderHeap, name: string, outOfHeap: (mb: number) => Error): ReaderThread<M> {
  const worker = new Worker(workerEntry(source, fallback), { workerData, resourceLimits: heap });
  const inbox: M[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  worker.on('message', (m: M) => {
    inbox.push(m);
    notify();
  });
  worker.on('error', (err) => {
    failure ??= (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? outOfHeap(heap.maxOldGenerationSizeMb) : err;
    notify();
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`${name} stopped (exit code ${code})`);
    notify();
  });
  return {
    async next() {
      // Messages already received come before a failure noticed after them.
      while (inbox.length === 0 && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
      if (inbox.length === 0) throw failure!;
      return inbox.shift()!;
    },
    ack() {
      worker.postMessage(1);
    },
    async stop() {
      worker.removeAllListeners();
      worker.on('error', () => {}); // whatever it says while stopping, the read is over
      await worker.terminate();
    },
  };
}
