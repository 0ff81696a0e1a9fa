/**
 * Kafka's Fetch request (version 4: record sets of message format v2, no fetch sessions) on
 * a socket of its own, handing back each partition's record bytes undecoded, for
 * kafka-records.ts to read. Replay reads a topic from start to end and needs nothing else
 * of a consumer: the metadata (leaders, offsets) and consumer groups stay with kafkajs
 * (kafka.ts), whose fetch decodes every record into objects before anyone can see it.
 */
import net from 'node:net';
import { TapedeckError } from '../errors.ts';

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

/** Kafka's error codes a replay may meet, by number (kafka.common.protocol.Errors). */
const ERRORS: Record<number, string> = {
  1: 'OFFSET_OUT_OF_RANGE', 3: 'UNKNOWN_TOPIC_OR_PARTITION', 5: 'LEADER_NOT_AVAILABLE', 6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT', 29: 'TOPIC_AUTHORIZATION_FAILED', 74: 'FENCED_LEADER_EPOCH', 75: 'UNKNOWN_LEADER_EPOCH',
};

export function kafkaErrorName(code: number): string {
  return ERRORS[code] ?? `error code ${code}`;
}

const FETCH = 1;
const VERSION = 4;

/** A Fetch v4 request: replica -1 (a consumer), read committed, one topic. */
export function encodeFetch(correlationId: number, clientId: string, topic: string, parts: readonly FetchPartition[], maxWaitMs: number, maxBytes: number): Buffer {
  const client = Buffer.from(clientId, 'utf8');
  const name = Buffer.from(topic, 'utf8');
  const size = 4 + 2 + 2 + 4 + 2 + client.length + 4 + 4 + 4 + 4 + 1 + 4 + 2 + name.length + 4 + parts.length * 16;
  const b = Buffer.alloc(size);
  let at = b.writeInt32BE(size - 4, 0);
  at = b.writeInt16BE(FETCH, at);
  at = b.writeInt16BE(VERSION, at);
  at = b.writeInt32BE(correlationId, at);
  at = b.writeInt16BE(client.length, at);
  at += client.copy(b, at);
  at = b.writeInt32BE(-1, at);
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
  let at = 4; // throttle time
  const out: FetchedPartition[] = [];
  const topics = body.readInt32BE(at);
  at += 4;
  for (let t = 0; t < topics; t++) {
    const nameLength = body.readInt16BE(at);
    const name = body.toString('utf8', at + 2, at + 2 + nameLength);
    at += 2 + nameLength;
    const parts = body.readInt32BE(at);
    at += 4;
    for (let i = 0; i < parts; i++) {
      const partition = body.readInt32BE(at);
      const errorCode = body.readInt16BE(at + 4);
      const highWatermark = Number(body.readBigInt64BE(at + 6));
      at += 4 + 2 + 8 + 8; // partition, error, high watermark, last stable offset
      const aborted = body.readInt32BE(at);
      at += 4 + Math.max(aborted, 0) * 16;
      const length = body.readInt32BE(at);
      at += 4;
      const records = length > 0 ? body.subarray(at, at + length) : Buffer.alloc(0);
      at += Math.max(length, 0);
      if (name === topic) out.push({ partition, errorCode, highWatermark, records });
    }
  }
  return out;
}

/**
 * One broker connection that fetches, one request at a time. A paced replay may leave it
 * idle for minutes (the buffers full): no time limit applies between requests, and when the
 * broker closes an idle connection (connections.max.idle.ms, 10 minutes by default) the
 * next fetch opens another. A request that fails or goes unanswered fails its fetch.
 */
export class FetchConnection {
  private socket: net.Socket | undefined;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private correlation = 0;
  private waiting: { id: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private closed = false;

  constructor(private readonly host: string, private readonly port: number, private readonly clientId: string, private readonly timeoutMs = 10_000) {}

  private get where(): string {
    return `Kafka at ${this.host}:${this.port}`;
  }

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
      const failed = (err: Error): void => reject(new KafkaFetchError(`${this.where}: ${err.message}`));
      socket.once('error', failed);
      socket.once('connect', () => {
        socket.off('error', failed);
        this.chunks = [];
        this.buffered = 0;
        socket.on('data', (d: Buffer) => this.onData(socket, d));
        socket.on('timeout', () => this.drop(socket, new KafkaFetchError(`${this.where} answered nothing for ${this.timeoutMs / 1000} s`)));
        socket.on('error', (err) => this.drop(socket, new KafkaFetchError(`${this.where}: ${err.message}`)));
        socket.on('close', () => this.drop(socket, new KafkaFetchError(`${this.where} closed the connection`)));
        resolve(socket);
      });
    });
  }

  /** A socket gone: the request on it, if any, fails with `err`; the next fetch opens another. */
  private drop(socket: net.Socket, err: Error): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    socket.destroy();
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(err);
  }

  private onData(socket: net.Socket, d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    for (;;) {
      if (this.buffered < 4) return;
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)];
      const size = this.chunks[0]!.readInt32BE(0);
      if (this.buffered < 4 + size) return;
      // Joined once the whole response is here (a fetch arrives in many socket reads).
      if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
      const all = this.chunks[0]!;
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      const w = this.waiting;
      if (w === undefined || frame.readInt32BE(0) !== w.id) {
        this.drop(socket, new KafkaFetchError(`${this.where} answered a request it was not asked`));
        return;
      }
      this.waiting = undefined;
      socket.setTimeout(0);
      w.resolve(frame.subarray(4));
    }
  }

  /** The record bytes of `parts` of `topic`, from their offsets. */
  async fetch(topic: string, parts: readonly FetchPartition[], maxWaitMs: number, maxBytes: number): Promise<FetchedPartition[]> {
    if (this.closed) throw new KafkaFetchError(`${this.where}: the connection is closed`);
    if (this.socket === undefined) {
      const opened = await this.connect();
      if (this.closed) {
        opened.destroy();
        throw new KafkaFetchError(`${this.where}: the connection is closed`);
      }
      this.socket = opened;
    }
    const socket = this.socket;
    const id = ++this.correlation;
    const body = await new Promise<Buffer>((resolve, reject) => {
      this.waiting = { id, resolve, reject };
      socket.setTimeout(this.timeoutMs + maxWaitMs);
      socket.write(encodeFetch(id, this.clientId, topic, parts, maxWaitMs, maxBytes));
    });
    return decodeFetch(body, topic);
  }

  close(): void {
    this.closed = true;
    if (this.socket !== undefined) this.drop(this.socket, new KafkaFetchError(`${this.where}: the connection is closed`));
  }
}
