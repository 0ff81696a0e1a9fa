/**
 * The Kafka read on the second core, as the archive read is (read-thread.ts): a worker
 * thread fetches, decodes, buffers and merges the partitions (kafka-source.ts, unchanged)
 * and hands the main thread the merged batches in read-wire.ts's compact form, so that the
 * main thread only folds. The order and content are kafka-source.ts's by construction: the
 * worker sends every event its stream yields, in order. It runs at most CREDIT batches
 * ahead, so memory stays the buffers', whatever the topic's length.
 */
import { on } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { LogEvent } from '../src/log/event.ts';
import type { KafkaTarget } from '../src/storage/kafka.ts';
import { KafkaOrderError, KafkaSourceError } from './kafka-partition.ts';
import type { KafkaReadOptions, KafkaStream } from './kafka-source.ts';
import { WireDecoder, type WireBatch } from './read-wire.ts';
import { workerEntry } from './worker-entry.ts';

/** What the worker is started with. */
export interface KafkaThreadInput {
  readonly target: KafkaTarget;
  readonly opts: KafkaReadOptions;
}

/** The stream's counters, as of the message that carries them. */
export interface KafkaThreadStats {
  readonly sessions: string[];
  readonly duplicates: number;
  readonly peak: [number, number][];
}

/** What the worker posts: the stream opened, a batch, the end, or why it stopped. */
export type KafkaThreadMessage =
  | { readonly open: { readonly partitions: number[]; readonly records: number } }
  | { readonly batch: WireBatch; readonly stats: KafkaThreadStats }
  | { readonly done: KafkaThreadStats }
  | { readonly error: { readonly name: string; readonly message: string } };

/**
 * The reader thread's heap: the partitions' buffers (at most window + chunk events each,
 * 4 × 20k by default), one fetch, and CREDIT batches on their way. Limits keep V8 from
 * growing the heap towards sizes meant for the whole machine. Measured on the 1M-event
 * bench topic: 32 MB of old generation ran out, 48 did not; 128 leaves room for records
 * several times larger than the demo's.
 */
export const KAFKA_READER_HEAP = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 48 } as const;

/** Errors the worker names, back as the classes the replay tells apart. */
function errorOf(e: { name: string; message: string }): Error {
  if (e.name === 'KafkaOrderError') return new KafkaOrderError(e.message);
  if (/^Kafka\w*Error$/.test(e.name)) return new KafkaSourceError(e.message);
  return new Error(e.message);
}

/** openKafka (kafka-source.ts) run on a worker thread: the same stream, the same events in the same order. */
export async function openKafkaThreaded(target: KafkaTarget, opts: KafkaReadOptions = {}, heap: { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } = KAFKA_READER_HEAP): Promise<KafkaStream> {
  const entry = workerEntry(new URL('./kafka-thread.worker.ts', import.meta.url), new URL('./kafka-thread.worker.mjs', import.meta.url));
  const workerData: KafkaThreadInput = { target, opts };
  const worker = new Worker(entry, { workerData, resourceLimits: heap });
  // A stop without a word is an error of the message stream, like any other; an error
  // after the stream has ended (the exit that follows one) is no one's.
  worker.on('error', () => {});
  worker.on('exit', (code) => worker.emit('error', new Error(`the Kafka reader thread stopped (exit code ${code})`)));
  const messages = on(worker, 'message') as AsyncIterableIterator<[KafkaThreadMessage]>;
  const stop = async (): Promise<void> => {
    worker.removeAllListeners();
    worker.on('error', () => {}); // whatever it says while stopping, the read is over
    await worker.terminate();
  };
  const next = async (): Promise<KafkaThreadMessage> => {
    let r: IteratorResult<[KafkaThreadMessage]>;
    try {
      r = await messages.next();
    } catch (err) {
      throw (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? new KafkaSourceError(`the Kafka reader thread ran out of its ${heap.maxOldGenerationSizeMb} MB heap (records larger than tapedeck writes?); replay with TAPEDECK_READ_THREAD=0 to read in line`)
        : err;
    }
    if (r.done) throw new Error('the Kafka reader thread went quiet');
    const m = r.value[0];
    if ('error' in m) throw errorOf(m.error);
    return m;
  };

  let opened: KafkaThreadMessage;
  try {
    opened = await next();
  } catch (err) {
    await stop();
    throw err;
  }
  if (!('open' in opened)) throw new Error('the Kafka reader thread did not open its stream first');
  let stats: KafkaThreadStats = { sessions: [], duplicates: 0, peak: [] };
  const decoder = new WireDecoder();

  async function* batches(): AsyncGenerator<LogEvent[]> {
    try {
      for (;;) {
        const m = await next();
        if ('done' in m) {
          stats = m.done;
          return;
        }
        if (!('batch' in m)) throw new Error('the Kafka reader thread opened its stream twice');
        stats = m.stats;
        worker.postMessage(1);
        yield decoder.decode(m.batch);
      }
    } finally {
      await stop();
    }
  }

  return {
    ...opened.open,
    batches,
    sessions: () => stats.sessions,
    duplicates: () => stats.duplicates,
    peakBuffered: () => new Map(stats.peak),
  };
}
