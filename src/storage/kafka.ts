/**
 * Kafka, behind a small interface (kafkajs is unmaintained since 2023; this is the only
 * module that imports it). LogEvents travel as records whose value is the payload's exact
 * bytes and whose headers carry everything else (`session`, `ingest_seq`, `recv_ns`, …),
 * so a reader restores the total order and drops a record repeating the event under its
 * (session, ingest_seq) (replayer/kafka-partition.ts).
 *
 * Keys and partitions: the key is `exchange:symbol`; the partition is chosen by the
 * symbol's canonical asset (BTCUSDT and BTC-USD → BTC/USD → the same partition), so one
 * asset's events keep their order and the quotes an arbitrage pair compares meet in one
 * engine worker. Events about no one symbol (ticks, opens, closes, acks) go to every
 * partition, since every worker needs them.
 */
import { CompressionTypes, Kafka, logLevel, type Admin, type Consumer, type IHeaders, type Message, type Producer, type ProducerRecord } from 'kafkajs';
import { canonicalAsset, eventSymbol } from '../exchanges/registry.ts';
import type { LogEvent } from '../log/event.ts';

/**
 * kafkajs (unmaintained) schedules its request queue's next check with a negative delay,
 * which Node 24 and later warn about on stderr, three lines in every process (thread) that
 * talks to a broker, after the output a user reads. Node runs it after 1 ms, as kafkajs
 * means: that warning, and only it, is not passed on.
 */
const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (type === 'TimeoutNegativeWarning' || (warning instanceof Error && warning.name === 'TimeoutNegativeWarning')) return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;

export interface KafkaTarget {
  readonly brokers: string[];
  readonly topic: string;
}

/** `kafka://127.0.0.1:9092[,host:port]/topic` → brokers and topic. */
export function parseKafkaUrl(url: string): KafkaTarget {
  const m = /^kafka:\/\/([^/]+)\/([A-Za-z0-9._-]+)$/.exec(url);
  if (!m) throw new Error(`bad Kafka source ${JSON.stringify(url)} (use kafka://host:port/topic)`);
  return { brokers: parseBrokers(m[1]!), topic: m[2]! };
}

export function parseBrokers(spec: string): string[] {
  const list = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const b of list) {
    const port = /^[A-Za-z0-9.-]+:(\d+)$/.exec(b)?.[1];
    if (port === undefined || !(Number(port) >= 1 && Number(port) <= 65535)) throw new Error(`bad Kafka broker ${JSON.stringify(b)} (use host:port, e.g. 127.0.0.1:9092; port 1 to 65535)`);
  }
  if (list.length === 0) throw new Error('no Kafka brokers given');
  return list;
}

export function kafkaClient(brokers: string[], clientId = 'tapedeck'): Kafka {
  return new Kafka({
    clientId, brokers, logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000, requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

/**
 * Kafka's own murmur2 (the Java client's default partitioner hash), so that any Kafka
 * client keying records by asset lands them in the same partitions tapedeck uses.
 */
export function murmur2(text: string): number {
  const data = Buffer.from(text, 'utf8');
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ data.length) | 0;
  const n4 = data.length & ~3;
  for (let i = 0; i < n4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  switch (data.length & 3) {
    case 3:
      h ^= data[n4 + 2]! << 16;
    // falls through
    case 2:
      h ^= data[n4 + 1]! << 8;
    // falls through
    case 1:
      h ^= data[n4]!;
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}

/** The partition of an asset: murmur2 & 0x7fffffff mod n, as Kafka's default partitioner. */
export function assetPartition(asset: string, partitions: number): number {
  return (murmur2(asset) & 0x7fffffff) % partitions;
}

/** Partitions an event goes to: its asset's one, or all of them (`symbol`: the event's, when known). */
export function partitionsFor(ev: LogEvent, partitions: number, symbol = eventSymbol(ev)): number[] {
  if (symbol === undefined) return Array.from({ length: partitions }, (_, i) => i);
  const asset = canonicalAsset(ev.exchange, symbol, { usdtAsUsd: true, mapping: {} }) ?? `${ev.exchange}:${symbol}`;
  return [assetPartition(asset, partitions)];
}

/** A record's key, as both producers write it: the exchange and the event's symbol (`*` for none). */
export function recordKey(ev: LogEvent, symbol: string | undefined): string {
  return `${ev.exchange}:${symbol ?? '*'}`;
}

/**
 * One LogEvent's records (one, or one per partition). A header whose value is empty is left
 * out (`meta` of almost every frame, `exchange` and `conn` of ticks): a reader takes a
 * missing header as empty, and every header is one more encoded field per record.
 */
export function toMessages(ev: LogEvent, partitions: number): Message[] {
  const symbol = eventSymbol(ev);
  const headers: IHeaders = { session: ev.session, ingest_seq: String(ev.ingestSeq), recv_ns: String(ev.recvNs), kind: ev.kind };
  if (ev.exchange !== '') headers.exchange = ev.exchange;
  if (ev.conn !== '') headers.conn = ev.conn;
  if (ev.meta !== '') headers.meta = ev.meta;
  return partitionsFor(ev, partitions, symbol).map((partition) => ({
    key: recordKey(ev, symbol), value: Buffer.from(ev.payload, 'utf8'), headers, partition,
    timestamp: String(ev.recvNs / 1_000_000n),
  }));
}

/**
 * How LogEvents are batched into produce requests (idempotent, acks=all). The recorder's
 * settings are PRODUCE_TUNED, with either client, chosen by the client comparison of `npm run bench`
 * (test/bench/kafka-clients.ts; the figures are in the README).
 */
export interface ProduceSettings {
  /** LogEvents per produce request at most. */
  readonly maxEvents: number;
  /** Record bytes per partition per request at most (the broker takes 1 MiB per partition batch by default). */
  readonly maxPartitionBytes: number;
  readonly compression: 'none' | 'gzip';
}

/** What tapedeck did before the comparison: 2,000 events per request, no byte limit. */
export const PRODUCE_BEFORE: ProduceSettings = { maxEvents: 2_000, maxPartitionBytes: Infinity, compression: 'none' };
/**
 * Chosen by CPU per event, which load from elsewhere moves least: kafkajs groups a request's
 * records per partition by copying the group's array for every record, so its cost per
 * record grows with the request (about 28 µs per LogEvent at 1k, 31 at 2k, 35 at 4k, on
 * this project's machine); gzip costs more than it saves on loopback.
 */
export const PRODUCE_TUNED: ProduceSettings = { maxEvents: 1_000, maxPartitionBytes: 768 * 1024, compression: 'none' };

/**
 * The longest head of `events` that fits one request under `s`: at most s.maxEvents, and no
 * partition's records over s.maxPartitionBytes (a symbol-less event counts in every
 * partition, as it is sent to each); always at least one event.
 */
export function cutBatch(events: readonly LogEvent[], partitions: number, s: ProduceSettings): LogEvent[] {
  const bytes = new Array<number>(partitions).fill(0);
  const n = Math.min(events.length, s.maxEvents);
  for (let i = 0; i < n; i++) {
    const ev = events[i]!;
    const size = Buffer.byteLength(ev.payload) + ev.meta.length + ev.session.length + ev.conn.length + 128;
    for (const p of partitionsFor(ev, partitions)) {
      bytes[p]! += size;
      if (bytes[p]! > s.maxPartitionBytes && i > 0) return events.slice(0, i);
    }
  }
  return events.slice(0, n);
}

/**
 * Creates the topic if it does not exist; returns its partition count. `keep`: no time
 * retention. Records carry their receive time as timestamp, so an old recording produced
 * today is past the broker's default 7 days at once and deleted at its next retention check
 * (every 5 minutes by default), leaving an empty topic.
 */
export async function ensureTopic(admin: Admin, topic: string, partitions: number, opts: { keep?: boolean } = {}): Promise<number> {
  const existing = await admin.fetchTopicMetadata({ topics: [] }).then((m) => m.topics.find((t) => t.name === topic));
  if (existing) return existing.partitions.length;
  const configEntries = opts.keep ? [{ name: 'retention.ms', value: '-1' }] : [];
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries }], waitForLeaders: true });
  return partitions;
}

/** The leader broker (host:port) of each partition of `topic`; undefined while one is being elected. */
export async function partitionLeaders(admin: Admin, topic: string): Promise<Map<number, string | undefined>> {
  const [meta, cluster] = await Promise.all([admin.fetchTopicMetadata({ topics: [topic] }), admin.describeCluster()]);
  const brokers = new Map(cluster.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]));
  return new Map(meta.topics[0]!.partitions.map((p) => [p.partitionId, brokers.get(p.leader)]));
}

/** A producer of LogEvent records to one topic, whatever the client. */
export interface LogProducer {
  /** Produces `events` in one request (cut them with cutBatch) and resolves once all in-sync replicas have them. */
  send(events: readonly LogEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** One kafkajs produce request (acks=all) of `events`. */
export function produceRequest(topic: string, events: readonly LogEvent[], partitions: number, s: ProduceSettings): ProducerRecord {
  const compression = s.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  return { topic, acks: -1, compression, messages: events.flatMap((ev) => toMessages(ev, partitions)) };
}

/** kafkajs, idempotent, acks=all: the recorder's client (it runs on every supported Node). */
export async function kafkajsProducer(kafka: Kafka, topic: string, partitions: number, s: ProduceSettings): Promise<LogProducer> {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await p.connect();
  return {
    send: async (events) => void await p.send(produceRequest(topic, events, partitions, s)),
    close: () => p.disconnect(),
  };
}

/**
 * The same records through @platformatic/kafka (idempotent, acks=all). A dev dependency
 * that needs Node >= 22: only the bench's client comparison uses it, so that no supported
 * Node (20) depends on it.
 */
export async function platformaticProducer(brokers: string[], topic: string, partitions: number, s: ProduceSettings): Promise<LogProducer> {
  const { Producer, stringSerializer } = await import('@platformatic/kafka');
  const p = new Producer<string, Buffer, string, string>({
    clientId: 'tapedeck', bootstrapBrokers: brokers, idempotent: true, acks: -1, compression: s.compression,
    serializers: { key: stringSerializer, value: (v) => v, headerKey: stringSerializer, headerValue: stringSerializer },
  });
  return {
    send: async (events) => void await p.send({
      messages: events.flatMap((ev) => toMessages(ev, partitions)).map((m) => ({
        topic, key: m.key as string, value: m.value as Buffer, headers: m.headers as Record<string, string>,
        partition: m.partition!, timestamp: BigInt(m.timestamp!),
      })),
    }),
    close: () => p.close(),
  };
}

export type { Admin, Consumer, Kafka, Producer };
