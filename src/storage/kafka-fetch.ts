/**
 * Kafka's Fetch request (version 4: record sets of message format v2, no fetch sessions) on
 * a connection of its own (kafka-connection.ts), handing back each partition's record bytes undecoded, for
 * kafka-records.ts to read. Replay reads a topic from start to end and needs nothing else
 * of a consumer: the metadata (leaders, offsets) and consumer groups stay with kafkajs
 * (kafka.ts), whose fetch decodes every record into objects before anyone can see it.
 */
import { TapedeckError } from '../errors.ts';
import { eachPartition, KafkaConnection } from './kafka-connection.ts';

export class KafkaFetchError extends TapedeckError {}

/** One partition's share of a fetch. */
export interface FetchPartition {
  readonly partition: number;
  readonly offset: number;
  readonly maxBytes: number;
}

/** What the broker answered for one partition. */
export interface FetchedPartition {
  readonly partition: number;
  readonly errorCode: number;
  readonly highWatermark: number;
  /** Record sets, possibly ending in a batch cut short by the size limit; empty when none. */
  readonly records: Buffer;
}

const FETCH = 1;
const VERSION = 4;

/** A Fetch v4 request's body: replica -1 (a consumer), read committed, one topic. */
export function encodeFetch(topic: string, parts: readonly FetchPartition[], maxWaitMs: number, maxBytes: number): Buffer {
  const name = Buffer.from(topic, 'utf8');
  const b = Buffer.alloc(4 + 4 + 4 + 4 + 1 + 4 + 2 + name.length + 4 + parts.length * 16);
  let at = b.writeInt32BE(-1, 0);
  at = b.writeInt32BE(maxWaitMs, at);
  at = b.writeInt32BE(1, at);
  at = b.writeInt32BE(maxBytes, at);
  at = b.writeInt8(1, at);
  at = b.writeInt32BE(1, at);
  at = b.writeInt16BE(name.length, at);
  at += name.copy(b, at);
  at = b.writeInt32BE(parts.length, at);
  for (const p of parts) {
    at = b.writeInt32BE(p.partition, at);
    at = b.writeBigInt64BE(BigInt(p.offset), at);
    at = b.writeInt32BE(p.maxBytes, at);
  }
  return b;
}

/** A Fetch v4 response's body (after its correlation id): the partitions of `topic`. */
export function decodeFetch(body: Buffer, topic: string): FetchedPartition[] {
  const out: FetchedPartition[] = [];
  eachPartition(body, 4 /* throttle time */, topic, (at, mine) => {
    const partition = body.readInt32BE(at);
    const errorCode = body.readInt16BE(at + 4);
    const highWatermark = Number(body.readBigInt64BE(at + 6));
    at += 4 + 2 + 8 + 8; // partition, error, high watermark, last stable offset
    const aborted = body.readInt32BE(at);
    at += 4 + Math.max(aborted, 0) * 16;
    const length = body.readInt32BE(at);
    at += 4;
    const records = length > 0 ? body.subarray(at, at + length) : Buffer.alloc(0);
    if (mine) out.push({ partition, errorCode, highWatermark, records });
    return at + Math.max(length, 0);
  });
  return out;
}

/**
 * One broker connection that fetches, one request at a time. A paced replay may leave it
 * idle for minutes (the buffers full): when the broker closes an idle connection
 * (connections.max.idle.ms, 10 minutes by default) the next fetch opens another. A request
 * that fails or goes unanswered fails its fetch.
 */
export class FetchConnection {
  private readonly conn: KafkaConnection;

  constructor(host: string, port: number, clientId: string, timeoutMs = 10_000) {
    this.conn = new KafkaConnection(host, port, clientId, (m) => new KafkaFetchError(m), timeoutMs);
  }

  /** The record bytes of `parts` of `topic`, from their offsets. */
  async fetch(topic: string, parts: readonly FetchPartition[], maxWaitMs: number, maxBytes: number): Promise<FetchedPartition[]> {
    return decodeFetch(await this.conn.request(FETCH, VERSION, encodeFetch(topic, parts, maxWaitMs, maxBytes), maxWaitMs), topic);
  }

  close(): void {
    this.conn.close();
  }
}
