/**
 * Kafka as a replay source, streaming. Each partition is read from its start up to its end
 * offset at the start of the read (all partitions, or — with a consumer group — the ones
 * this worker is assigned once the group has settled) into a bounded PartitionBuffer; the
 * consumer pauses a partition whose buffer is full and resumes it once the merge has taken
 * from it. The partitions are then merged by (recv_ns, session, ingest_seq) exactly as an
 * archive's files are, and the copies of symbol-less events (sent to every partition) meet
 * there and are dropped. Memory is the buffers, whatever the topic's length.
 */
import type { LogEvent } from '../src/log/event.ts';
import { compareLogOrder } from '../src/log/event.ts';
import { fromRecord, Interner, kafkaClient, type KafkaTarget } from '../src/storage/kafka.ts';
import { KafkaSourceError, PartitionBuffer } from './kafka-partition.ts';
import { mergeBatches, type LazyInput } from './merge.ts';

export { KafkaSourceError };

export interface KafkaReadOptions {
  /** Join this consumer group and read only the partitions it assigns to this worker. */
  readonly group?: string;
  /** With a group: how long the assignment must stay unchanged before reading starts. */
  readonly settleMs?: number;
  /** How long a partition may deliver nothing before the read gives up. */
  readonly idleMs?: number;
  /** Events held back per partition to sort interleaved sessions (Infinity: the whole partition). */
  readonly window?: number;
  /** Events handed to the merge at a time; a partition holds at most window + chunk. */
  readonly chunk?: number;
}

export interface KafkaStream {
  readonly partitions: number[];
  /** Records in the partitions' offset ranges, repeats included. */
  readonly records: number;
  /** Events in replay order, each (session, ingest_seq) once. Disconnects when done. */
  batches(): AsyncGenerator<LogEvent[]>;
  /** Sessions seen so far, sorted. */
  sessions(): string[];
  /** Repeated records dropped so far (resends and the copies of symbol-less events). */
  duplicates(): number;
  /** Most events a partition's buffer has held at once, by partition. */
  peakBuffered(): Map<number, number>;
}

const DEFAULT_WINDOW = 16_384;
const DEFAULT_CHUNK = 4_096;
/**
 * What one fetch may bring: kafkajs decodes a whole response (every record a message object
 * with a Buffer per header) before the buffers take any, and fetches again only once they
 * have. At kafkajs's defaults (1 MiB per partition, 10 MiB in all) a 4-partition read held
 * 4 MiB of records and their ~60k decoded objects at a time; 256 KiB per partition (~1k records)
 * read the 1M-event bench topic as fast, in less memory.
 */
const FETCH = { maxBytesPerPartition: 256 * 1024, maxBytes: 1024 * 1024 } as const;

async function endOffsets(target: KafkaTarget): Promise<Map<number, { low: number; high: number }>> {
  const admin = kafkaClient(target.brokers, 'tapedeck-replay').admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new KafkaSourceError(`cannot reach Kafka at ${target.brokers.join(',')}: ${(err as Error).message}`);
  }
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(target.topic)) throw new KafkaSourceError(`no topic ${target.topic} on ${target.brokers.join(',')}`);
    const offsets = await admin.fetchTopicOffsets(target.topic);
    return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  } finally {
    await admin.disconnect();
  }
}

export async function openKafka(target: KafkaTarget, opts: KafkaReadOptions = {}): Promise<KafkaStream> {
  const ends = await endOffsets(target);
  const window = opts.window ?? DEFAULT_WINDOW;
  const chunk = opts.chunk ?? DEFAULT_CHUNK;
  const idleMs = opts.idleMs ?? 30_000;
  const newBuffer = (p: number): PartitionBuffer => {
    const b = new PartitionBuffer(`${target.topic}[${p}]`, window, chunk);
    b.next = ends.get(p)!.low;
    b.ended = b.next >= ends.get(p)!.high;
    return b;
  };
  const parts = new Map<number, PartitionBuffer>();
  // Without a group every partition is ours from the start; with one, the group decides.
  if (opts.group === undefined) for (const p of ends.keys()) parts.set(p, newBuffer(p));
  let assigned = opts.group === undefined;
  let started = false;
  let lastJoinMs = Date.now();
  let failure: Error | undefined;
  let waiters: (() => void)[] = [];
  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const fail = (err: Error): void => {
    failure ??= err;
    wake();
  };

  const kafka = kafkaClient(target.brokers, 'tapedeck-replay');
  const groupId = opts.group ?? `tapedeck-replay-${process.pid}-${Date.now()}`;
  const interner = new Interner();
  // Short fetch waits: kafkajs heartbeats (and so learns of a rebalance) between fetches, and
  // when every partition is paused it sleeps this long before looking again.
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 50, allowAutoTopicCreation: false, ...FETCH });
  const topicPartition = (p: number) => [{ topic: target.topic, partitions: [p] }];
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    if (opts.group === undefined) return;
    const mine = new Set<number>(e.payload.memberAssignment[target.topic] ?? []);
    if (started) {
      if (mine.size !== parts.size || [...mine].some((p) => !parts.has(p))) {
        fail(new KafkaSourceError(`consumer group ${opts.group} rebalanced during the replay (a worker joined or left): partitions ${[...parts.keys()].join(',')} → ${[...mine].join(',')}; start all workers together`));
      }
      return;
    }
    for (const p of [...parts.keys()]) if (!mine.has(p)) parts.delete(p);
    for (const p of mine) if (!parts.has(p)) parts.set(p, newBuffer(p));
    assigned = true;
    lastJoinMs = Date.now();
    wake();
  });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic: target.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    // Only what a buffer took is resolved: kafkajs fetches a paused partition again from there.
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, pause }) => {
      const p = batch.partition;
      const buf = parts.get(p);
      if (buf === undefined) return;
      if (failure !== undefined) {
        pause();
        return;
      }
      const end = ends.get(p)!.high;
      let resolved: string | undefined;
      try {
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset >= end || buf.full) break;
          // Below `next`: read before a rejoin restarted the partition from its beginning.
          if (offset >= buf.next) buf.add(fromRecord(m.headers, m.value, `${buf.where}@${m.offset}`, interner), offset);
          resolved = m.offset;
        }
      } catch (err) {
        fail(err as Error);
        pause();
        return;
      }
      if (resolved !== undefined) resolveOffset(resolved);
      if (buf.next >= end) buf.ended = true;
      if (buf.ended || buf.full) pause();
      wake();
    },
  });

  /** Resolves on news from the consumer, or after `ms`. */
  const news = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  /** Waits until `ok()`, failing when the consumer fails or brings nothing for idleMs. */
  const until = async (ok: () => boolean): Promise<void> => {
    const since = Date.now();
    while (!ok()) {
      if (failure !== undefined) throw failure;
      if (Date.now() - since > idleMs) {
        const stalled = [...parts].filter(([, b]) => !b.ready).map(([p, b]) => `${b.where} at offset ${b.next} of ${ends.get(p)!.high}`);
        throw new KafkaSourceError(`${stalled.join(', ') || `consumer group ${opts.group}`}: nothing from Kafka for ${idleMs / 1000} s`);
      }
      await news(100);
    }
    if (failure !== undefined) throw failure;
  };

  try {
    // Start once the assignment has settled and every buffer is full or at its end, so each
    // partition's first event (which the merge orders its inputs by) is known.
    const settled = (): boolean => assigned && (opts.group === undefined || Date.now() - lastJoinMs >= (opts.settleMs ?? 5_000));
    await until(() => settled() && [...parts.values()].every((b) => b.ready));
  } catch (err) {
    await close();
    throw err;
  }
  started = true;
  const order = [...parts.keys()].sort((a, b) => a - b);

  async function* chunks(p: number, buf: PartitionBuffer): AsyncGenerator<LogEvent[]> {
    for (;;) {
      if (failure !== undefined) throw failure;
      const out = buf.take();
      if (out !== undefined) {
        if (!buf.ended) consumer.resume(topicPartition(p));
        yield out;
      } else if (buf.ended) {
        return;
      } else {
        await until(() => buf.ready);
      }
    }
  }

  let dropped = 0;
  async function* batches(): AsyncGenerator<LogEvent[]> {
    try {
      const inputs: LazyInput<LogEvent>[] = [];
      for (const p of order) {
        const buf = parts.get(p)!;
        const first = buf.first();
        if (first !== undefined) inputs.push({ first, open: () => chunks(p, buf) });
      }
      let session = '';
      let seq = -1;
      for await (const batch of mergeBatches(inputs, compareLogOrder, chunk)) {
        // A symbol-less event is in every partition: its copies arrive side by side.
        const kept = batch.filter((ev) => {
          const copy = ev.ingestSeq === seq && ev.session === session;
          seq = ev.ingestSeq;
          session = ev.session;
          return !copy;
        });
        dropped += batch.length - kept.length;
        yield kept;
      }
    } finally {
      await close();
    }
  }

  return {
    partitions: order,
    records: order.reduce((n, p) => n + ends.get(p)!.high - ends.get(p)!.low, 0),
    batches,
    sessions: () => [...new Set(order.flatMap((p) => [...parts.get(p)!.sessions]))].sort(),
    duplicates: () => dropped + order.reduce((n, p) => n + parts.get(p)!.repeats, 0),
    peakBuffered: () => new Map(order.map((p) => [p, parts.get(p)!.peak])),
  };
}

export interface KafkaRead {
  /** session → its events in ingest order, each (session, ingest_seq) once. */
  readonly sessions: Map<string, LogEvent[]>;
  readonly records: number;
  readonly duplicates: number;
  readonly partitions: number[];
}

/** The whole topic (or this worker's share) in memory, by session: for tests and tools, not replay. */
export async function readKafka(target: KafkaTarget, opts: Omit<KafkaReadOptions, 'window'> = {}): Promise<KafkaRead> {
  const stream = await openKafka(target, { ...opts, window: Infinity });
  const sessions = new Map<string, LogEvent[]>();
  for await (const batch of stream.batches()) {
    for (const ev of batch) {
      let list = sessions.get(ev.session);
      if (list === undefined) sessions.set(ev.session, (list = []));
      list.push(ev);
    }
  }
  return { sessions, records: stream.records, duplicates: stream.duplicates(), partitions: stream.partitions };
}
