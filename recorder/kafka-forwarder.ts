/**
 * Spool → Kafka. Events reach Kafka from the spool, never straight from the socket: when
 * the broker is down or restarting, recording goes on, the events wait in the spool (the
 * `kafka` cursor holds them back from pruning), and they are delivered in order once the
 * broker is back. The producer (tapedeck's own, kafka-produce.ts, or kafkajs with
 * TAPEDECK_KAFKA_PRODUCER=kafkajs) is idempotent; a resend after an unclear failure can still
 * repeat a record, which readers drop once they know it for the event under its (session,
 * ingest_seq) (replayer/kafka-partition.ts).
 *
 * Live outputs (candles, indicators, arbitrage) go to output topics on a best-effort queue:
 * they can always be recomputed from the raw topic. kafkajs sends them.
 */
import type { OutputSink, OutputTables, TableName } from '../src/engine/rows.ts';
import type { LogEvent } from '../src/log/event.ts';
import { cutBatch, ensureTopic, kafkaClient, PRODUCE_TUNED, type Kafka, type LogProducer, type Producer } from '../src/storage/kafka.ts';
import { isTooLarge, openLogProducer, producerClient } from '../src/storage/kafka-produce.ts';
import { damageLine, readFault } from './archiver.ts';
import { SpoolDamaged, type Spool } from './spool.ts';

export interface KafkaForwarderOptions {
  readonly brokers: string[];
  readonly prefix: string;
  readonly partitions: number;
  readonly say: (line: string) => void;
  readonly onDelivered?: (n: number) => void;
}

const OUTPUT_TABLES: readonly TableName[] = ['candles', 'indicators', 'arbitrage'];
const MAX_OUTPUT_QUEUE = 200_000;

const json = (row: object): string => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

export class KafkaForwarder {
  private readonly kafka: Kafka;
  private producer: LogProducer | undefined;
  /** For the live outputs' topics. */
  private outputs: Producer | undefined;
  private partitions = 0;
  private down = false;
  private outputQueue: { topic: string; key: string; value: string }[] = [];
  private droppedOutputs = 0;
  delivered = 0;
  /** Why the last delivery failed, for the stop's warning. */
  lastError: string | undefined;
  /** Set when a stop gives up on a delivery under way: that delivery then touches neither the spool nor the screen. */
  private abandoned = false;
  /** Events too large for the broker: skipped in Kafka, kept in the archive, said aloud. */
  tooLarge = 0;
  /** Spool batches that do not read back: passed over, said aloud; their events went to the archive at their commit. */
  private readonly damaged: { readonly batch: bigint; readonly lastSeq: number }[] = [];
  private lastPending = 0;
  readonly rawTopic: string;
  /** Which client produces the raw topic (a bad TAPEDECK_KAFKA_PRODUCER fails here, at the start). */
  private readonly client = producerClient();

  constructor(private readonly spool: Spool, readonly session: string, private readonly o: KafkaForwarderOptions) {
    this.kafka = kafkaClient(o.brokers, `tapedeck-recorder-${session}`);
    this.rawTopic = `${o.prefix}.raw`;
  }

  /** The sink for live rows. */
  readonly sink: OutputSink = {
    emit: <T extends TableName>(table: T, row: OutputTables[T][number]): void => {
      if (!OUTPUT_TABLES.includes(table)) return;
      const r = row as { exchange?: string; symbol?: string; interval?: string; asset?: string };
      const key = table === 'arbitrage' ? String(r.asset) : `${r.exchange}:${r.symbol}:${r.interval}`;
      if (this.outputQueue.length >= MAX_OUTPUT_QUEUE) {
        this.outputQueue.shift();
        this.droppedOutputs++;
      }
      this.outputQueue.push({ topic: `${this.o.prefix}.${table}`, key, value: json(row) });
    },
  };

  private async connect(): Promise<LogProducer> {
    if (this.producer) return this.producer;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      this.partitions = await ensureTopic(admin, this.rawTopic, this.o.partitions);
      for (const t of OUTPUT_TABLES) await ensureTopic(admin, `${this.o.prefix}.${t}`, this.o.partitions);
    } finally {
      await admin.disconnect();
    }
    this.producer = await openLogProducer(this.kafka, this.rawTopic, this.partitions, this.client);
    return this.producer;
  }

  /** Delivers what the spool holds past the `kafka` cursor; false when the broker could not be reached. */
  async pump(maxBatches = 20): Promise<boolean> {
    try {
      const p = await this.connect();
      for (let i = 0; i < maxBatches; i++) {
        const from = this.spool.cursor('kafka', this.session);
        const batch = cutBatch(this.read(from), this.partitions, PRODUCE_TUNED);
        if (batch.length === 0) break;
        try {
          await p.send(batch);
        } catch (err) {
          // One event larger than the broker accepts (message.max.bytes, 1 MiB by default)
          // would block delivery forever: say so, skip it (it is in the archive), go on.
          if (!(batch.length === 1 && isTooLarge(err))) throw err;
          this.tooLarge++;
          this.o.say(`kafka: event ${this.session}#${batch[0]!.ingestSeq} (${batch[0]!.payload.length} bytes) is larger than the broker accepts; it is in the archive, not in ${this.rawTopic}`);
        }
        // The stop gave up on this delivery and may have closed the spool: the batch counts as not
        // delivered (the next run sends it again; readers drop the repeat, the same event under its session and ingest_seq).
        if (this.abandoned) return false;
        this.spool.setCursor('kafka', this.session, batch.at(-1)!.ingestSeq);
        this.delivered += batch.length;
        this.o.onDelivered?.(batch.length);
      }
      if (this.outputQueue.length > 0) {
        const rows = this.outputQueue.splice(0, 1_000);
        const byTopic = new Map<string, { key: string; value: string }[]>();
        for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), { key: r.key, value: r.value }]);
        if (this.outputs === undefined) {
          const o = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
          await o.connect();
          this.outputs = o;
        }
        await this.outputs.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      }
      if (this.down) this.o.say(`kafka: broker reachable again; delivering from the spool (${this.pending()} events waiting)`);
      this.down = false;
      return true;
    } catch (err) {
      if (this.abandoned) return false;
      this.lastError = (err as Error).message;
      // Pages SQLite cannot read hold delivery back as a broker away does, but are not one.
      const unread = readFault(err);
      if (!this.down) {
        this.o.say(unread ? `kafka: cannot read the spool ${this.spool.file} (${unread.what}, ${unread.code}); the events it holds for ${this.rawTopic} are in the archive and stay in the spool`
          : `kafka: cannot deliver (${this.lastError}); events wait in the spool`);
      }
      this.down = true;
      await this.disconnect();
      return false;
    }
  }

  /** Events waiting for Kafka; while the spool's pages do not read, the last count that did. */
  pending(): number {
    try {
      const cursor = this.spool.cursor('kafka', this.session);
      this.lastPending = this.spool.countAfter(this.session, cursor, this.skipped(cursor));
    } catch (err) {
      if (!readFault(err)) throw err;
    }
    return this.lastPending;
  }

  /**
   * Events of the damaged batches passed over and still past the `kafka` cursor (counted as
   * their rows say): none reached Kafka, and the cursor stays before a last one, which keeps
   * the spool at the stop for the next run to set aside.
   */
  passedOver(): number {
    try {
      const cursor = this.spool.cursor('kafka', this.session);
      const skip = this.skipped(cursor);
      return skip.length === 0 ? 0 : this.spool.countAfter(this.session, cursor) - this.spool.countAfter(this.session, cursor, skip);
    } catch (err) {
      if (!readFault(err)) throw err;
      return 0;
    }
  }

  /**
   * The rowids of the damaged batches still past the `kafka` cursor. One behind it may have been
   * pruned, and SQLite gives a deleted row's rowid to a new row: it must not hide that one.
   */
  private skipped(cursor: number): bigint[] {
    for (let i = this.damaged.length - 1; i >= 0; i--) {
      if (this.damaged[i]!.lastSeq <= cursor) this.damaged.splice(i, 1);
    }
    return this.damaged.map((d) => d.batch);
  }

  /**
   * The next events to deliver, past ingest_seq `from`. A batch damaged in the spool since
   * its commit would hold delivery back for good (and the spool would grow behind it): it is
   * passed over and said aloud, as an event too large for the broker is; its events reached
   * the archive from the commit (and the batch is pruned once delivery has passed it; a
   * spool that ends with it is kept at the stop and set aside by the next run's recovery).
   */
  private read(from: number): LogEvent[] {
    for (;;) {
      try {
        return this.spool.after(this.session, from, PRODUCE_TUNED.maxEvents, this.skipped(from));
      } catch (err) {
        if (!(err instanceof SpoolDamaged)) throw err;
        this.damaged.push({ batch: err.batch, lastSeq: err.lastSeq });
        this.o.say(`kafka: a batch of the spool ${err.file} does not read back (${damageLine(err)}); its events are in the archive, not in ${this.rawTopic}`);
      }
    }
  }

  get isDown(): boolean {
    return this.down;
  }

  /** The stop gives up on the delivery under way (it goes on unawaited, touching nothing) and closes the producers. */
  abandon(): void {
    this.abandoned = true;
    void this.disconnect();
  }

  async close(): Promise<void> {
    if (this.droppedOutputs > 0) this.o.say(`kafka: ${this.droppedOutputs} live output rows were dropped while the broker was away (recompute them with replay)`);
    await this.disconnect();
  }

  private async disconnect(): Promise<void> {
    const [p, o] = [this.producer, this.outputs];
    this.producer = undefined;
    this.outputs = undefined;
    await p?.close().catch(() => {});
    await o?.disconnect().catch(() => {});
  }
}
