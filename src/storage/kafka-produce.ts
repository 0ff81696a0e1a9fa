/**
 * tapedeck's own Kafka producer of LogEvents: idempotent, acks=all, no transactions.
 * InitProducerId (v0, no transactional id) gives it a producer id and epoch; each send is
 * one Produce request (v3: message format v2) per partition leader, each partition's records
 * one RecordBatch (kafka-batch.ts) whose base sequence continues that partition's, on one
 * connection per leader (kafka-connection.ts). kafkajs (kafka.ts) only reads the metadata:
 * which broker leads which partition.
 *
 * Idempotence: a partition's sequence moves on only once the broker has its batch; until
 * then every retry resends the very same bytes, so the broker writes each batch once (a
 * repeat is answered DUPLICATE_SEQUENCE_NUMBER, or with the first write's offset). A lost
 * connection, NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, REQUEST_TIMED_OUT and the
 * like: the leaders are learnt again and the partitions not yet written are resent, for
 * up to `retryForMs`. A broken sequence (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID,
 * a fenced epoch) fails the send in one line, as does running out of time; the next send
 * then starts over with a new producer id (what the failed send wrote stays written, so
 * resending its events may repeat them: readers drop repeats by (session, ingest_seq)).
 *
 * Sends are delivered one after the other, in the order they were made.
 */
import { TapedeckError } from '../errors.ts';
import type { LogEvent } from '../log/event.ts';
import { BatchEncoder, type PartitionBatch, type ProducerIdentity } from './kafka-batch.ts';
import { brokerAddress, eachPartition, KafkaConnection, kafkaErrorName } from './kafka-connection.ts';
import { kafkajsProducer, partitionLeaders, PRODUCE_TUNED, type Kafka, type LogProducer, type ProduceSettings } from './kafka.ts';

export class KafkaProduceError extends TapedeckError {
  /** `code`: Kafka's error name (`errorCode` its number), or CONNECTION for a connection that failed. */
  constructor(message: string, readonly code = '', readonly errorCode = -1) {
    super(message, 1);
  }
}

const PRODUCE = 0;
const PRODUCE_VERSION = 3;
const INIT_PRODUCER_ID = 22;
/** How long the broker may take to have a batch on all in-sync replicas. */
const ACK_TIMEOUT_MS = 10_000;

/** Answers that mean "the batch is in the log". */
const WRITTEN = new Set([0, 46]);
/** Answers that mean "try again" (14, 15: to InitProducerId); of them, those that mean "maybe at another broker". */
const RETRIABLE = new Set([3, 5, 6, 7, 14, 15, 19, 20, 74, 75]);
const MOVED = new Set([3, 5, 6, 74, 75]);
/** The broker's de-duplication no longer holds for this producer id. */
const BROKEN_SEQUENCE = new Set([45, 47, 59, 90]);
const TOO_LARGE = new Set([10, 18]);

/** InitProducerId v0's body: no transactional id. */
export function encodeInitProducerId(): Buffer {
  const b = Buffer.alloc(6);
  b.writeInt16BE(-1, 0);
  b.writeInt32BE(60_000, 2);
  return b;
}

/** A Produce v3 request's body: acks=all, one topic, each batch for its partition. */
export function encodeProduce(topic: string, batches: readonly PartitionBatch[], timeoutMs = ACK_TIMEOUT_MS): Buffer {
  const name = Buffer.from(topic, 'utf8');
  const head = Buffer.alloc(2 + 2 + 4 + 4 + 2 + name.length + 4);
  let at = head.writeInt16BE(-1, 0); // no transactional id
  at = head.writeInt16BE(-1, at); // acks: all in-sync replicas
  at = head.writeInt32BE(timeoutMs, at);
  at = head.writeInt32BE(1, at);
  at = head.writeInt16BE(name.length, at);
  at += name.copy(head, at);
  head.writeInt32BE(batches.length, at);
  const parts: Buffer[] = [head];
  for (const b of batches) {
    const p = Buffer.alloc(8);
    p.writeInt32BE(b.partition, 0);
    p.writeInt32BE(b.bytes.length, 4);
    parts.push(p, b.bytes);
  }
  return Buffer.concat(parts);
}

/** A Produce v3 response's body: each partition of `topic` and its error code. */
export function decodeProduce(body: Buffer, topic: string): { partition: number; errorCode: number }[] {
  const out: { partition: number; errorCode: number }[] = [];
  eachPartition(body, 0, topic, (at, mine) => {
    if (mine) out.push({ partition: body.readInt32BE(at), errorCode: body.readInt16BE(at + 4) });
    return at + 4 + 2 + 8 + 8; // partition, error, base offset, log append time
  });
  return out;
}

/** Sequence `seq` moved on by `n`, wrapping past 2^31 - 1 to 0 as Kafka does. */
export function nextSequence(seq: number, n: number): number {
  return seq > 0x7fffffff - n ? n - (0x7fffffff - seq) - 1 : seq + n;
}

export interface OwnProducerOptions {
  readonly clientId?: string;
  /** How long a send keeps trying to reach the partitions' leaders (10 s). */
  readonly retryForMs?: number;
  /** How the partitions' leader brokers (host:port) are learnt; by default from the topic's metadata, through kafkajs. */
  readonly learnLeaders?: () => Promise<Map<number, string | undefined>>;
}

async function metadataLeaders(kafka: Kafka, topic: string): Promise<Map<number, string | undefined>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await partitionLeaders(admin, topic);
  } finally {
    await admin.disconnect();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** tapedeck's own producer (see the module's comment); `open` learns the leaders and gets a producer id. */
export class OwnProducer implements LogProducer {
  private readonly connections = new Map<string, KafkaConnection>();
  private leaders = new Map<number, string | undefined>();
  private id: ProducerIdentity | undefined;
  private sequences: number[] = [];
  private readonly encoder = new BatchEncoder();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  /** Partition batches a try did not deliver (each then sent again, unless time ran out). */
  resent = 0;
  private readonly clientId: string;
  private readonly retryForMs: number;
  private readonly learnLeaders: () => Promise<Map<number, string | undefined>>;

  private constructor(kafka: Kafka, private readonly topic: string, private readonly partitions: number, private readonly s: ProduceSettings, o: OwnProducerOptions) {
    this.clientId = o.clientId ?? 'tapedeck';
    this.retryForMs = o.retryForMs ?? 10_000;
    this.learnLeaders = o.learnLeaders ?? (() => metadataLeaders(kafka, topic));
  }

  static async open(kafka: Kafka, topic: string, partitions: number, s: ProduceSettings, o: OwnProducerOptions = {}): Promise<OwnProducer> {
    const p = new OwnProducer(kafka, topic, partitions, s, o);
    try {
      await p.relearn();
      await p.deliver([]);
    } catch (err) {
      await p.close();
      throw err;
    }
    return p;
  }

  /** The producer id and epoch (undefined until the first send after a failed one). */
  get identity(): ProducerIdentity | undefined {
    return this.id;
  }

  send(events: readonly LogEvent[]): Promise<void> {
    const sent = this.queue.then(() => this.deliver(events));
    this.queue = sent.catch(() => {});
    return sent;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  private connection(leader: string): KafkaConnection {
    let c = this.connections.get(leader);
    if (c === undefined) {
      const { host, port } = brokerAddress(leader);
      c = new KafkaConnection(host, port, this.clientId, (m) => new KafkaProduceError(m, 'CONNECTION'), ACK_TIMEOUT_MS + 5_000);
      this.connections.set(leader, c);
    }
    return c;
  }

  private dropConnection(leader: string): void {
    this.connections.get(leader)?.close();
    this.connections.delete(leader);
  }

  private async relearn(): Promise<void> {
    try {
      this.leaders = await this.learnLeaders();
    } catch (err) {
      throw new KafkaProduceError(`${this.topic}: cannot learn the partitions' leaders: ${(err as Error).message}`, 'CONNECTION');
    }
  }

  /** A producer id and epoch from any leader; every partition's sequence starts at 0. */
  private async init(): Promise<void> {
    const leader = [...this.leaders.values()].find((l) => l !== undefined);
    if (leader === undefined) throw new KafkaProduceError(`${this.topic}: no partition has a leader broker now`, kafkaErrorName(5), 5);
    const body = await this.connection(leader).request(INIT_PRODUCER_ID, 0, encodeInitProducerId());
    const errorCode = body.readInt16BE(4);
    if (errorCode !== 0) throw new KafkaProduceError(`Kafka at ${leader} answered ${kafkaErrorName(errorCode)} when asked for a producer id`, kafkaErrorName(errorCode), errorCode);
    this.id = { producerId: body.readBigInt64BE(6), producerEpoch: body.readInt16BE(14) };
    this.sequences = new Array<number>(this.partitions).fill(0);
  }

  /** Sends `events` (none: only makes sure of a producer id), retrying what may succeed later for up to retryForMs. */
  private async deliver(events: readonly LogEvent[]): Promise<void> {
    if (this.closed) throw new KafkaProduceError(`${this.topic}: the producer is closed`);
    const deadline = Date.now() + this.retryForMs;
    let pending: PartitionBatch[] | undefined;
    let trouble = '';
    for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
      let relearn = false;
      try {
        if (this.id === undefined) await this.init();
        if (events.length === 0) return;
        pending ??= this.encoder.encode(events, this.partitions, this.id!, this.sequences, this.s.compression);
        const left = await this.round(pending);
        pending = left.pending;
        if (pending.length === 0) return;
        this.resent += pending.length;
        trouble = left.trouble;
        relearn = left.moved;
      } catch (err) {
        if (!(err instanceof KafkaProduceError) || !(err.code === 'CONNECTION' || RETRIABLE.has(err.errorCode))) {
          if (err instanceof KafkaProduceError && BROKEN_SEQUENCE.has(err.errorCode)) this.id = undefined;
          throw err;
        }
        trouble = err.message;
        relearn = true;
        this.resent += pending?.length ?? 0;
      }
      if (Date.now() + wait > deadline || this.closed) {
        // What was sent may or may not be written: the next send starts a new sequence.
        this.id = undefined;
        throw new KafkaProduceError(`${this.topic}: not delivered within ${this.retryForMs / 1000} s (last: ${trouble})`, 'TIMED_OUT');
      }
      await sleep(wait);
      if (relearn) await this.relearn().catch((err: Error) => void (trouble = err.message));
    }
  }

  /** One Produce request per leader of `pending`'s partitions; what is still to send, and why. */
  private async round(pending: readonly PartitionBatch[]): Promise<{ pending: PartitionBatch[]; trouble: string; moved: boolean }> {
    const byLeader = new Map<string, PartitionBatch[]>();
    const left: PartitionBatch[] = [];
    let trouble = '';
    let moved = false;
    for (const b of pending) {
      const leader = this.leaders.get(b.partition);
      if (leader === undefined) {
        left.push(b);
        trouble = `${this.topic}[${b.partition}] has no leader broker now`;
        moved = true;
      } else {
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), b]);
      }
    }
    const answers = await Promise.all([...byLeader].map(async ([leader, batches]) => {
      try {
        return { leader, batches, answer: decodeProduce(await this.connection(leader).request(PRODUCE, PRODUCE_VERSION, encodeProduce(this.topic, batches)), this.topic) };
      } catch (err) {
        if (!(err instanceof KafkaProduceError)) throw err;
        return { leader, batches, lost: err };
      }
    }));
    let failure: KafkaProduceError | undefined;
    for (const a of answers) {
      if (a.lost !== undefined) {
        this.dropConnection(a.leader);
        left.push(...a.batches);
        trouble = a.lost.message;
        moved = true;
        continue;
      }
      const codes = new Map(a.answer.map((r) => [r.partition, r.errorCode]));
      for (const b of a.batches) {
        const code = codes.get(b.partition) ?? 7;
        const where = `${this.topic}[${b.partition}]`;
        if (WRITTEN.has(code)) {
          this.sequences[b.partition] = nextSequence(this.sequences[b.partition]!, b.records);
        } else if (RETRIABLE.has(code)) {
          left.push(b);
          trouble = `${where}: Kafka at ${a.leader} answered ${kafkaErrorName(code)}`;
          if (MOVED.has(code)) moved = true;
        } else if (BROKEN_SEQUENCE.has(code)) {
          failure ??= new KafkaProduceError(`${where}: Kafka answered ${kafkaErrorName(code)} to producer id ${this.id!.producerId} epoch ${this.id!.producerEpoch}: its sequence is broken, so the events of this send may be missing or repeated (the next send starts a new producer id)`, kafkaErrorName(code), code);
        } else if (TOO_LARGE.has(code)) {
          failure ??= new KafkaProduceError(`${where}: Kafka answered ${kafkaErrorName(code)} (${b.bytes.length} bytes in ${b.records} records)`, 'MESSAGE_TOO_LARGE', code);
        } else {
          failure ??= new KafkaProduceError(`${where}: Kafka answered ${kafkaErrorName(code)} to a produce`, kafkaErrorName(code), code);
        }
      }
    }
    if (failure !== undefined) {
      // Batches left unsettled beside the failure (a timed-out one may be in the log): their
      // sequence numbers must not carry other events, so the next send takes a new producer id.
      if (left.length > 0) this.id = undefined;
      throw failure;
    }
    return { pending: left, trouble, moved };
  }
}

/** Whether a send failed because a record is larger than the broker accepts (either client). */
export function isTooLarge(err: unknown): boolean {
  return (err as { type?: string }).type === 'MESSAGE_TOO_LARGE' || (err instanceof KafkaProduceError && err.code === 'MESSAGE_TOO_LARGE');
}

export type ProducerClient = 'tapedeck' | 'kafkajs';

/** The recorder's client: tapedeck's own, unless TAPEDECK_KAFKA_PRODUCER=kafkajs. */
export function producerClient(env: NodeJS.ProcessEnv = process.env): ProducerClient {
  const v = env.TAPEDECK_KAFKA_PRODUCER ?? 'tapedeck';
  if (v !== 'tapedeck' && v !== 'kafkajs') throw new TapedeckError(`bad TAPEDECK_KAFKA_PRODUCER ${JSON.stringify(v)} (use tapedeck or kafkajs)`);
  return v;
}

/** The recorder's producer of `topic`, by `client` (cut its sends with PRODUCE_TUNED). */
export async function openLogProducer(kafka: Kafka, topic: string, partitions: number, client = producerClient(), o: OwnProducerOptions = {}): Promise<LogProducer> {
  return client === 'kafkajs' ? kafkajsProducer(kafka, topic, partitions, PRODUCE_TUNED) : OwnProducer.open(kafka, topic, partitions, PRODUCE_TUNED, o);
}
