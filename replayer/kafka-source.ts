/**
 * Kafka as a replay source. Reads a raw topic from the beginning up to its end offsets at
 * the start of the read (all partitions, or — with a consumer group — the partitions this
 * worker is assigned once the group has settled), drops repeated (session, ingest_seq)
 * records, and hands back each session's events in ingest order, to be merged exactly as
 * an archive's are.
 */
import type { LogEvent } from '../src/log/event.ts';
import { fromRecord, kafkaClient, type KafkaTarget } from '../src/storage/kafka.ts';

export interface KafkaRead {
  /** session → its events in ingest order, each (session, ingest_seq) once. */
  readonly sessions: Map<string, LogEvent[]>;
  readonly records: number;
  readonly duplicates: number;
  readonly partitions: number[];
}

export class KafkaSourceError extends Error {}

export async function readKafka(target: KafkaTarget, opts: { group?: string; settleMs?: number; timeoutMs?: number } = {}): Promise<KafkaRead> {
  const kafka = kafkaClient(target.brokers, 'tapedeck-replay');
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new KafkaSourceError(`cannot reach Kafka at ${target.brokers.join(',')}: ${(err as Error).message}`);
  }
  let ends: Map<number, bigint>;
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(target.topic)) throw new KafkaSourceError(`no topic ${target.topic} on ${target.brokers.join(',')}`);
    const offsets = await admin.fetchTopicOffsets(target.topic);
    ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const groupId = opts.group ?? `tapedeck-replay-${process.pid}-${Date.now()}`;
  // Short fetch waits: kafkajs heartbeats (and so learns of a rebalance) between fetches.
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  const buffers = new Map<number, LogEvent[]>();
  const nextOffset = new Map<number, bigint>();
  // Without a group every partition is ours from the start; with one, the group decides.
  let assigned: Set<number> | undefined = opts.group ? undefined : new Set(ends.keys());
  let lastJoinMs = Date.now();
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const mine = new Set<number>(e.payload.memberAssignment[target.topic] ?? []);
    for (const p of [...buffers.keys()]) {
      if (!mine.has(p)) {
        buffers.delete(p);
        nextOffset.delete(p);
      }
    }
    assigned = mine;
    lastJoinMs = Date.now();
  });
  await consumer.connect();
  await consumer.subscribe({ topic: target.topic, fromBeginning: true });
  const done = (): boolean => {
    if (assigned === undefined) return false;
    if (opts.group && Date.now() - lastJoinMs < (opts.settleMs ?? 5_000)) return false;
    for (const p of assigned) {
      const end = ends.get(p) ?? 0n;
      if (end > 0n && (nextOffset.get(p) ?? 0n) < end) return false;
    }
    return true;
  };
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const p = batch.partition;
      if (assigned !== undefined && !assigned.has(p)) return;
      let buf = buffers.get(p);
      if (buf === undefined) buffers.set(p, (buf = []));
      const end = ends.get(p) ?? 0n;
      for (const m of batch.messages) {
        if (BigInt(m.offset) >= end) break;
        buf.push(fromRecord(m.headers, m.value, `${target.topic}[${p}]@${m.offset}`));
        nextOffset.set(p, BigInt(m.offset) + 1n);
      }
    },
  });
  const t0 = Date.now();
  while (!done()) {
    if (Date.now() - t0 > (opts.timeoutMs ?? 120_000)) {
      await consumer.disconnect();
      throw new KafkaSourceError(`timed out reading ${target.topic}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await consumer.disconnect();

  const sessions = new Map<string, LogEvent[]>();
  let records = 0;
  for (const p of [...(assigned ?? [])].sort((a, b) => a - b)) {
    for (const ev of buffers.get(p) ?? []) {
      records++;
      let list = sessions.get(ev.session);
      if (list === undefined) sessions.set(ev.session, (list = []));
      list.push(ev);
    }
  }
  let duplicates = 0;
  for (const [s, list] of sessions) {
    list.sort((a, b) => a.ingestSeq - b.ingestSeq);
    const unique = list.filter((ev, i) => i === 0 || ev.ingestSeq !== list[i - 1]!.ingestSeq);
    duplicates += list.length - unique.length;
    sessions.set(s, unique);
  }
  return { sessions, records, duplicates, partitions: [...(assigned ?? [])].sort((a, b) => a - b) };
}
