/**
 * The Kafka read on the second core, as the archive read is (read-thread.ts): a worker
 * thread fetches, decodes, buffers and merges the partitions (kafka-source.ts, unchanged)
 * and hands the main thread the merged batches in read-wire.ts's compact form, so that the
 * main thread only folds. The order and content are kafka-source.ts's by construction: the
 * worker sends every event its stream yields, in order. It runs at most CREDIT batches
 * ahead, so memory stays the buffers', whatever the topic's length.
 */
import type { LogEvent } from '../src/log/event.ts';
import type { KafkaTarget } from '../src/storage/kafka.ts';
import { KafkaOrderError, KafkaSourceError } from './kafka-partition.ts';
import type { KafkaReadOptions, KafkaStream } from './kafka-source.ts';
import { WireDecoder, type WireBatch } from './read-wire.ts';
import { READER_HEAP, startReaderThread, type ReaderHeap } from './reader-thread.ts';

/** What the worker is started with. */
export interface KafkaThreadInput {
  readonly target: KafkaTarget;
  readonly opts: KafkaReadOptions;
}

/** The stream's counters, as of the message that carries them. */
export interface KafkaThreadStats {
  readonly sessions: string[];
  readonly duplicates: number;
  readonly resends: number;
  readonly onlyResent: number;
  readonly peak: [number, number][];
}

/** What the worker posts: the stream opened, a batch, the end, or why it stopped. */
export type KafkaThreadMessage =
  | { readonly open: { readonly partitions: number[]; readonly records: number } }
  | { readonly batch: WireBatch; readonly stats: KafkaThreadStats }
  | { readonly done: KafkaThreadStats }
  | { readonly error: { readonly name: string; readonly message: string } };

/** Errors the worker names, back as the classes the replay tells apart. */
function errorOf(e: { name: string; message: string }): Error {
  if (e.name === 'KafkaOrderError') return new KafkaOrderError(e.message);
  if (/^Kafka\w*Error$/.test(e.name)) return new KafkaSourceError(e.message);
  return new Error(e.message);
}

/** openKafka (kafka-source.ts) run on a worker thread: the same stream, the same events in the same order. */
export async function openKafkaThreaded(target: KafkaTarget, opts: KafkaReadOptions = {}, heap: ReaderHeap = READER_HEAP): Promise<KafkaStream> {
  const workerData: KafkaThreadInput = { target, opts };
  const thread = startReaderThread<KafkaThreadMessage>(
    new URL('./kafka-thread.worker.ts', import.meta.url), new URL('./kafka-thread.worker.mjs', import.meta.url), workerData, heap, 'the Kafka reader thread',
    (mb) => new KafkaSourceError(`the Kafka reader thread ran out of its ${mb} MB heap (records larger than tapedeck writes?); replay with TAPEDECK_READ_THREAD=0 to read in line`),
  );
  const next = async (): Promise<KafkaThreadMessage> => {
    const m = await thread.next();
    if ('error' in m) throw errorOf(m.error);
    return m;
  };

  let opened: KafkaThreadMessage;
  try {
    opened = await next();
  } catch (err) {
    await thread.stop();
    throw err;
  }
  if (!('open' in opened)) throw new Error('the Kafka reader thread did not open its stream first');
  let stats: KafkaThreadStats = { sessions: [], duplicates: 0, resends: 0, onlyResent: 0, peak: [] };
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
        thread.ack();
        yield decoder.decode(m.batch);
      }
    } finally {
      await thread.stop();
    }
  }

  return {
    ...opened.open,
    batches,
    sessions: () => stats.sessions,
    duplicates: () => stats.duplicates,
    resends: () => stats.resends,
    onlyResent: () => stats.onlyResent,
    peakBuffered: () => new Map(stats.peak),
  };
}
