/**
 * Kafka, behind a small interface (kafkajs is unmaintained since 2023; this is the only
 * module that imports it). LogEvents travel as records whose value is the payload's exact
 * bytes and whose headers carry everything else (`session`, `ingest_seq`, `recv_ns`, …),
 * so a reader restores the total order and de-duplicates by (session, ingest_seq).
 *
 * Keys and partitions: the key is `exchange:symbol`; the partition is chosen by the
 * symbol's canonical asset (BTCUSDT and BTC-USD → BTC/USD → the same partition), so one
 * asset's events keep their order and the quotes an arbitrage pair compares meet in one
 * engine worker. Events about no one symbol (ticks, opens, closes, acks) go to every
 * partition, since every worker needs them.
 */
import { Kafka, logLevel, type Admin, type Consumer, type IHeaders, type Message, type Producer } from 'kafkajs';
import { canonicalAsset, eventSymbol } from '../exchanges/registry.ts';
import { isLogKind, type LogEvent } from '../log/event.ts';
import { TapedeckError } from '../errors.ts';

export interface KafkaTarget {
  readonly brokers: string[];
  readonly topic: string;
}

/** `kafka://127.0.0.1:9092[,host:port]/topic` → brokers and topic. */
export function parseKafkaUrl(url: string): KafkaTarget {
  const m = /^kafka:\/\/([^/]+)\/([A-Za-z0-9._-]+)$/.exec(url);
  if (!m) throw new Error(`bad Kafka source ${JSON.stringify(url)} (use kafka://host:port/topic)`);
  return { brokers: m[1]!.split(','), topic: m[2]! };
}

export function parseBrokers(spec: string): string[] {
  const list = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const b of list) if (!/^[A-Za-z0-9.-]+:\d+$/.test(b)) throw new Error(`bad Kafka broker ${JSON.stringify(b)} (use host:port, e.g. 127.0.0.1:9092)`);
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

/** Partitions an event goes to: its asset's one, or all of them. */
export function partitionsFor(ev: LogEvent, partitions: number): number[] {
  const symbol = eventSymbol(ev);
  if (symbol === undefined) return Array.from({ length: partitions }, (_, i) => i);
  const asset = canonicalAsset(ev.exchange, symbol, { usdtAsUsd: true, mapping: {} }) ?? `${ev.exchange}:${symbol}`;
  return [assetPartition(asset, partitions)];
}

export function toMessages(ev: LogEvent, partitions: number): Message[] {
  const symbol = eventSymbol(ev) ?? '*';
  const headers: IHeaders = {
    session: ev.session, ingest_seq: String(ev.ingestSeq), recv_ns: String(ev.recvNs),
    exchange: ev.exchange, conn: ev.conn, kind: ev.kind, meta: ev.meta,
  };
  return partitionsFor(ev, partitions).map((partition) => ({
    key: `${ev.exchange}:${symbol}`, value: Buffer.from(ev.payload, 'utf8'), headers, partition,
    timestamp: String(ev.recvNs / 1_000_000n),
  }));
}

export class KafkaRecordError extends TapedeckError {}

export function fromRecord(headers: IHeaders | undefined, value: Buffer | null, where: string): LogEvent {
  const h = (k: string): string => {
    const v = headers?.[k];
    return v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  };
  const kind = h('kind');
  if (!h('session') || !/^\d+$/.test(h('ingest_seq')) || !/^\d+$/.test(h('recv_ns')) || !isLogKind(kind)) {
    throw new KafkaRecordError(`${where}: not a tapedeck LogEvent record (headers session/ingest_seq/recv_ns/kind)`);
  }
  return {
    session: h('session'), ingestSeq: Number(h('ingest_seq')), recvNs: BigInt(h('recv_ns')), exchange: h('exchange'),
    conn: h('conn'), kind, payload: value?.toString('utf8') ?? '', meta: h('meta'),
  };
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

export type { Admin, Consumer, Kafka, Producer };
