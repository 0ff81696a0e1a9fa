/**
 * Kafka as a replay source, streaming. Each partition is read from its start up to its end
 * offset at the start of the read (all partitions, or — with a consumer group — the ones
 * this worker is assigned once the group has settled) into a bounded PartitionBuffer: a
 * connection per leader broker fetches the record bytes of the partitions that have room
 * (kafka-fetch.ts) and they are decoded only as the buffer takes them (kafka-records.ts),
 * so a full partition is simply not fetched until the merge has taken from it. The
 * partitions are then merged by (recv_ns, session, ingest_seq) exactly as an archive's
 * files are, and the copies of symbol-less events (sent to every partition) meet there and
 * are dropped. Memory is the buffers and one fetch, whatever the topic's length.
 *
 * kafkajs (kafka.ts) reads the metadata and, with a group, keeps the membership: its
 * consumer joins the group and learns the assignment, but fetches nothing.
 */
import type { LogEvent } from '../src/log/event.ts';
import { compareLogOrder } from '../src/log/event.ts';
import { kafkaClient, partitionLeaders, type KafkaTarget } from '../src/storage/kafka.ts';
import { brokerAddress, kafkaErrorName } from '../src/storage/kafka-connection.ts';
import { FetchConnection, KafkaFetchError, type FetchPartition } from '../src/storage/kafka-fetch.ts';
import { ByteStrings, RecordCursor } from '../src/storage/kafka-records.ts';
import { KafkaSourceError, PartitionBuffer, SessionOrder } from './kafka-partition.ts';
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
  /** Of those, the resends: records a partition had already given (each checked to be the event it repeats). */
  resends(): number;
  /** Events read from a resent copy alone: retention had deleted the first (kafka-partition.ts). */
  onlyResent(): number;
  /** Most events a partition's buffer has held at once, by partition. */
  peakBuffered(): Map<number, number>;
}

const DEFAULT_WINDOW = 16_384;
const DEFAULT_CHUNK = 4_096;
/**
 * What one fetch may bring: its bytes are held until the buffers have taken its records.
 * A partition's share is at least one of tapedeck's produce batches (768 KiB at most), so
 * that the broker need not cut one.
 */
const FETCH = { maxBytesPerPartition: 1024 * 1024, maxBytes: 2 * 1024 * 1024, maxWaitMs: 100 } as const;

/**
 * Kafka's answers to a fetch that mean "ask again, maybe another broker": the partition's
 * leadership moved or is being elected (a broker restarted, a rolling upgrade), or the
 * request timed out. The read then learns the leaders anew and goes on from where it was;
 * a broker that went away is asked again the same way. The replay's idle limit (`idleMs`)
 * bounds how long it keeps trying.
 */
const RETRIABLE = new Set([5, 6, 7, 74, 75]);
/** Between tries while the leaders are being learnt again. */
const RETRY_MS = 1_000;

interface PartitionInfo {
  readonly low: number;
  readonly high: number;
  /** The leader broker, host:port. */
  readonly leader: string;
}

async function topicLayout(target: KafkaTarget): Promise<Map<number, PartitionInfo>> {
  const admin = kafkaClient(target.brokers, 'tapedeck-replay').admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new KafkaSourceError(`cannot reach Kafka at ${target.brokers.join(',')}: ${(err as Error).message}`);
  }
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(target.topic)) throw new KafkaSourceError(`no topic ${target.topic} on ${target.brokers.join(',')}`);
    const [offsets, leaders] = await Promise.all([admin.fetchTopicOffsets(target.topic), partitionLeaders(admin, target.topic)]);
    return new Map(offsets.map((o) => {
      const leader = leaders.get(o.partition);
      if (leader === undefined) throw new KafkaSourceError(`${target.topic}[${o.partition}] has no leader broker now; try again once the cluster has elected one`);
      return [o.partition, { low: Number(o.low), high: Number(o.high), leader }];
    }));
  } finally {
    await admin.disconnect();
  }
}

/** A wake-up for whoever waits on it (all of them), with a time limit. */
class Signal {
  private waiters: (() => void)[] = [];

  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves at the next notify, or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

export async function openKafka(target: KafkaTarget, opts: KafkaReadOptions = {}): Promise<KafkaStream> {
  const layout = await topicLayout(target);
  const window = opts.window ?? DEFAULT_WINDOW;
  const chunk = opts.chunk ?? DEFAULT_CHUNK;
  const idleMs = opts.idleMs ?? 30_000;
  const strings = new ByteStrings();
  const newBuffer = (p: number): PartitionBuffer => {
    const b = new PartitionBuffer(`${target.topic}[${p}]`, window, chunk);
    b.next = layout.get(p)!.low;
    b.ended = b.next >= layout.get(p)!.high;
    return b;
  };
  const parts = new Map<number, PartitionBuffer>();
  // Without a group every partition is ours from the start; with one, the group decides.
  if (opts.group === undefined) for (const p of layout.keys()) parts.set(p, newBuffer(p));
  let assigned = opts.group === undefined;
  let started = false;
  let closing = false;
  let lastJoinMs = Date.now();
  let failure: Error | undefined;
  /** Records came (or the read failed); and: a buffer made room. */
  const news = new Signal();
  const room = new Signal();
  const fail = (err: Error): void => {
    failure ??= err;
    news.notify();
    room.notify();
  };

  // With a group, a kafkajs consumer keeps the membership and learns the assignment; the
  // topic stays paused in it (the records come through the fetch connections below).
  const consumer = opts.group === undefined ? undefined : kafkaClient(target.brokers, 'tapedeck-replay').consumer({
    groupId: opts.group, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 50,
    allowAutoTopicCreation: false, maxBytesPerPartition: 1024, maxBytes: 4096,
  });
  if (consumer !== undefined) {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      consumer.pause([{ topic: target.topic }]);
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
      news.notify();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: target.topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: async ({ pause }) => void pause() });
  }

  const cursors = new Map<number, RecordCursor>();
  /** Moves records of `p`'s last fetch into its buffer while it has room. */
  const fill = (p: number, buf: PartitionBuffer): void => {
    const cursor = cursors.get(p);
    if (cursor === undefined) return;
    const end = layout.get(p)!.high;
    for (;;) {
      if (buf.full) return;
      const ev = cursor.next();
      if (ev === undefined || cursor.offset >= end) break;
      // Below `next`: the fetched batch began before the offset asked for.
      if (cursor.offset >= buf.next) buf.add(ev, cursor.offset);
    }
    cursors.delete(p);
    if (buf.next >= end) buf.ended = true;
  };

  const connections: FetchConnection[] = [];
  /** Fetches the partitions `leader` leads until each has ended. */
  const fetchLoop = async (leader: string, mine: number[]): Promise<void> => {
    const { host, port } = brokerAddress(leader);
    const conn = new FetchConnection(host, port, 'tapedeck-replay');
    connections.push(conn);
    let turn = 0;
    while (!closing && failure === undefined) {
      const want: FetchPartition[] = [];
      // A different partition first each time: the broker returns a batch larger than the
      // partition's share only to the first partition of a request.
      turn++;
      for (let i = 0; i < mine.length; i++) {
        const p = mine[(i + turn) % mine.length]!;
        const buf = parts.get(p)!;
        fill(p, buf);
        if (!buf.ended && !buf.full && !cursors.has(p)) want.push({ partition: p, offset: buf.next, maxBytes: FETCH.maxBytesPerPartition });
      }
      news.notify();
      if (mine.every((p) => parts.get(p)!.ended)) return;
      if (want.length === 0) {
        await room.wait(1_000);
        continue;
      }
      let answer;
      try {
        answer = await conn.fetch(target.topic, want, FETCH.maxWaitMs, FETCH.maxBytes);
      } catch (err) {
        if (!(err instanceof KafkaFetchError) || closing) throw err;
        trouble = err.message;
        conn.close();
        return relead(mine);
      }
      let moved = false;
      for (const r of answer) {
        const buf = parts.get(r.partition);
        if (buf === undefined) continue;
        if (RETRIABLE.has(r.errorCode)) {
          trouble = `${buf.where}: Kafka answered ${kafkaErrorName(r.errorCode)}`;
          moved = true;
          continue;
        }
        if (r.errorCode !== 0) {
          const gone = r.errorCode === 1 ? ' (deleted by retention or compaction during the read?)' : '';
          throw new KafkaSourceError(`${buf.where}: Kafka answered ${kafkaErrorName(r.errorCode)} to a fetch at offset ${buf.next}${gone}`);
        }
        if (r.records.length > 0) cursors.set(r.partition, new RecordCursor(r.records, buf.where, strings));
      }
      if (moved) {
        conn.close();
        return relead(mine);
      }
    }
  };
  /** What made the read ask for the leaders again last, for the message if it never gets going again. */
  let trouble: string | undefined;
  /** Learns the leaders of `mine` again (trying while Kafka cannot say) and fetches them from there. */
  const relead = async (mine: number[]): Promise<void> => {
    while (!closing && failure === undefined) {
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      let fresh: Map<number, PartitionInfo>;
      try {
        fresh = await topicLayout(target);
      } catch (err) {
        trouble = (err as Error).message;
        continue;
      }
      for (const p of mine) layout.set(p, { ...layout.get(p)!, leader: fresh.get(p)!.leader });
      fetchFromLeaders(mine);
      return;
    }
  };
  /** A fetch loop per leader broker of `ps` (as `layout` has them), for its share of them. */
  const fetchFromLeaders = (ps: number[]): void => {
    const byLeader = new Map<string, number[]>();
    for (const p of ps) {
      const leader = layout.get(p)!.leader;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    for (const [leader, mine] of byLeader) fetchLoop(leader, mine).catch((err: Error) => fail(err));
  };

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= (async () => {
    closing = true;
    room.notify();
    for (const c of connections) c.close();
    await consumer?.disconnect();
  })());

  /** Waits until `ok()`, failing when the consumer fails or brings nothing for idleMs. */
  const until = async (ok: () => boolean): Promise<void> => {
    const since = Date.now();
    while (!ok()) {
      if (failure !== undefined) throw failure;
      if (Date.now() - since > idleMs) {
        const stalled = [...parts].filter(([, b]) => !b.ready).map(([p, b]) => `${b.where} at offset ${b.next} of ${layout.get(p)!.high}`);
        throw new KafkaSourceError(`${stalled.join(', ') || `consumer group ${opts.group}`}: nothing from Kafka for ${idleMs / 1000} s${trouble !== undefined ? ` (last: ${trouble})` : ''}`);
      }
      await news.wait(100);
    }
    if (failure !== undefined) throw failure;
  };

  try {
    // Fetch once the assignment has settled; start once every buffer is full or at its end,
    // so each partition's first event (which the merge orders its inputs by) is known.
    await until(() => assigned && (opts.group === undefined || Date.now() - lastJoinMs >= (opts.settleMs ?? 5_000)));
    started = true;
    fetchFromLeaders([...parts.keys()].sort((a, b) => a - b));
    await until(() => [...parts.values()].every((b) => b.ready));
  } catch (err) {
    await close();
    throw err;
  }
  const order = [...parts.keys()].sort((a, b) => a - b);

  async function* chunks(buf: PartitionBuffer): AsyncGenerator<LogEvent[]> {
    for (;;) {
      if (failure !== undefined) throw failure;
      const out = buf.take();
      if (out !== undefined) {
        room.notify();
        yield out;
      } else if (buf.ended) {
        return;
      } else {
        await until(() => buf.ready);
      }
    }
  }

  const sessionOrder = new SessionOrder(target.topic);
  const resends = (): number => order.reduce((n, p) => n + parts.get(p)!.repeats, 0);
  async function* batches(): AsyncGenerator<LogEvent[]> {
    try {
      const inputs: LazyInput<LogEvent>[] = [];
      for (const p of order) {
        const buf = parts.get(p)!;
        const first = buf.first();
        if (first !== undefined) inputs.push({ first, open: () => chunks(buf) });
      }
      for await (const batch of mergeBatches(inputs, compareLogOrder, chunk)) yield sessionOrder.keep(batch);
    } finally {
      await close();
    }
  }

  return {
    partitions: order,
    records: order.reduce((n, p) => n + layout.get(p)!.high - layout.get(p)!.low, 0),
    batches,
    sessions: () => [...new Set(order.flatMap((p) => [...parts.get(p)!.sessions]))].sort(),
    duplicates: () => sessionOrder.copies + resends(),
    resends,
    onlyResent: () => order.reduce((n, p) => n + parts.get(p)!.onlyResent, 0),
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
