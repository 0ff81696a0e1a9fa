/**
 * tapedeck's own producer (kafka-produce.ts) against a real Apache Kafka broker (see
 * broker.ts): an archive produced through it reads back (kafka-source.ts) as exactly the
 * archive, every record once, even when the broker was stopped for 3 s mid-produce with a
 * request in flight (the retries resend the same sequences, which the broker de-duplicates);
 * a broken sequence and a record too large for the broker fail the send in one line, and
 * the producer goes on afterwards; the recorder's forwarder delivers a spool alike through
 * it and through kafkajs, and passes over a batch damaged in the spool, saying so.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKafka } from '../../replayer/kafka-source.ts';
import { KafkaForwarder } from '../../recorder/kafka-forwarder.ts';
import { Spool } from '../../recorder/spool.ts';
import { generateArchive } from '../../src/cli/demo.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { cutBatch, ensureTopic, kafkaClient, partitionsFor, PRODUCE_TUNED } from '../../src/storage/kafka.ts';
import { isTooLarge, KafkaProduceError, OwnProducer } from '../../src/storage/kafka-produce.ts';
import { readReplayOrder, sleep, tmpDir } from '../helpers.ts';
import { SKIP_KAFKA, startBroker, type Broker } from './broker.ts';
import { damage, ev, writeSpool } from '../spool-files.ts';

let broker: Broker;

beforeAll(() => {
  broker = startBroker();
}, 600_000);

afterAll(() => broker?.down());

const key = (ev: LogEvent): string => `${ev.session}#${ev.ingestSeq}`;

async function freshTopic(name: string, partitions: number): Promise<{ topic: string; kafka: ReturnType<typeof kafkaClient> }> {
  const kafka = kafkaClient(broker.brokers.split(','), 'tapedeck-test');
  const admin = kafka.admin();
  await admin.connect();
  const topic = `${name}-${Date.now()}.raw`;
  // The simulated sessions are of 2024: without `keep`, retention would delete them mid-test.
  await ensureTopic(admin, topic, partitions, { keep: true });
  await admin.disconnect();
  return { topic, kafka };
}

const cuts = (events: LogEvent[], partitions: number): LogEvent[][] => {
  const out: LogEvent[][] = [];
  for (let i = 0; i < events.length;) {
    const cut = cutBatch(events.slice(i, i + PRODUCE_TUNED.maxEvents), partitions, PRODUCE_TUNED);
    out.push(cut);
    i += cut.length;
  }
  return out;
};

const event = (ingestSeq: number, payload = `{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","i":${ingestSeq}}}`): LogEvent =>
  ({ session: 'p', ingestSeq, recvNs: 1_720_000_000_000_000_000n + BigInt(ingestSeq), exchange: 'binance', conn: 'c', kind: 'frame', payload, meta: '' });

describe.skipIf(SKIP_KAFKA)('OwnProducer', () => {
  it('produces every event exactly once, in order, across a broker stop of 3 s mid-produce', async () => {
    if (!broker.managed) {
      console.log('broker restart test needs a broker that test/kafka/kafka.sh manages; KAFKA_BROKERS points elsewhere');
      return;
    }
    const dir = tmpDir();
    generateArchive({ minutes: 10, seed: 7, out: path.join(dir, 'a'), faults: false });
    const events = await readReplayOrder(path.join(dir, 'a'));
    const { topic, kafka } = await freshTopic('p1', 3);
    const producer = await OwnProducer.open(kafka, topic, 3, PRODUCE_TUNED, { retryForMs: 60_000 });
    const first = producer.identity!;
    const batches = cuts(events, 3);
    expect(batches.length).toBeGreaterThan(6);
    let restarted: Promise<void> | undefined;
    for (const [i, batch] of batches.entries()) {
      const sent = producer.send(batch);
      if (i === Math.floor(batches.length / 3)) {
        // A request in flight as the broker goes: its answer may be lost after the broker wrote it.
        broker.stop();
        restarted = sleep(3_000).then(() => broker.start());
      }
      await sent;
    }
    await restarted;
    await producer.close();
    expect(restarted).toBeDefined();
    expect(producer.resent, 'batches were sent again after the broker came back').toBeGreaterThan(0);
    expect(producer.identity, 'the same producer id throughout: no send failed').toEqual(first);
    const read = await readKafka({ brokers: broker.brokers.split(','), topic });
    expect(read.records, 'records in the topic: each event\'s once per partition it goes to, no resend written twice')
      .toBe(events.reduce((n, ev) => n + partitionsFor(ev, 3).length, 0));
    expect([...read.sessions.values()].flat().map(key), 'every event once, in order').toEqual(events.map(key));
    expect(read.sessions.get(events[0]!.session)).toEqual(events);
  }, 300_000);

  it('fails a send whose sequence the broker does not expect in one line, and starts over with a new producer id', async () => {
    const { topic, kafka } = await freshTopic('p2', 1);
    const producer = await OwnProducer.open(kafka, topic, 1, PRODUCE_TUNED);
    await producer.send([event(1), event(2)]);
    const first = producer.identity!;
    // As if a batch had been lost between two the broker has: the next one comes out of order.
    (producer as unknown as { sequences: number[] }).sequences[0]! += 5;
    const err = await producer.send([event(3)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaProduceError);
    expect((err as Error).message).toMatch(new RegExp(`^${topic.replace('.', '\\.')}\\[0\\]: Kafka answered OUT_OF_ORDER_SEQUENCE_NUMBER to producer id \\d+ epoch \\d+: its sequence is broken`));
    expect((err as Error).message).not.toMatch(/\n/);
    await producer.send([event(3), event(4)]);
    expect(producer.identity!.producerId).not.toBe(first.producerId);
    await producer.close();
    const read = await readKafka({ brokers: broker.brokers.split(','), topic });
    expect(read.sessions.get('p')!.map((ev) => ev.ingestSeq)).toEqual([1, 2, 3, 4]);
  }, 120_000);

  it('fails a send with a record larger than the broker accepts, and the next send still goes in', async () => {
    const { topic, kafka } = await freshTopic('p3', 2);
    const producer = await OwnProducer.open(kafka, topic, 2, PRODUCE_TUNED);
    await producer.send([event(1)]);
    const err = await producer.send([event(2, 'x'.repeat(1_500_000))]).catch((e: unknown) => e);
    expect(isTooLarge(err), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/\[\d\]: Kafka answered MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/);
    await producer.send([event(3), event(4)]);
    await producer.close();
    const read = await readKafka({ brokers: broker.brokers.split(','), topic });
    expect(read.sessions.get('p')!.map((ev) => ev.ingestSeq)).toEqual([1, 3, 4]);
  }, 120_000);

  it('delivers a spool the same through either client the recorder may use (TAPEDECK_KAFKA_PRODUCER)', async () => {
    const dir = tmpDir();
    generateArchive({ minutes: 3, seed: 9, out: path.join(dir, 'a'), faults: false });
    const events = await readReplayOrder(path.join(dir, 'a'));
    const read: LogEvent[][] = [];
    for (const client of ['tapedeck', 'kafkajs']) {
      const spool = new Spool(path.join(dir, `${client}.sqlite`));
      for (const ev of events) spool.add(ev);
      spool.commit();
      const prefix = `p5-${client}-${Date.now()}`;
      const before = process.env.TAPEDECK_KAFKA_PRODUCER;
      process.env.TAPEDECK_KAFKA_PRODUCER = client;
      const said: string[] = [];
      const fwd = new KafkaForwarder(spool, events[0]!.session, { brokers: broker.brokers.split(','), prefix, partitions: 3, say: (l) => said.push(l) });
      if (before === undefined) delete process.env.TAPEDECK_KAFKA_PRODUCER;
      else process.env.TAPEDECK_KAFKA_PRODUCER = before;
      for (let i = 0; i < 10 && fwd.pending() > 0; i++) expect(await fwd.pump(), said.join('\n')).toBe(true);
      await fwd.close();
      spool.close();
      expect(fwd.delivered).toBe(events.length);
      read.push([...(await readKafka({ brokers: broker.brokers.split(','), topic: `${prefix}.raw` })).sessions.values()].flat());
    }
    expect(read[0], 'tapedeck\'s own producer').toEqual(events);
    expect(read[1], 'kafkajs').toEqual(events);
  }, 120_000);

  it('passes over a spool batch damaged since its commit, in one line, and delivers every event around it', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'd.spool');
    const all = writeSpool(file, 'd', [40, 40, 40, 40]);
    damage(file, 1, 'one bit');
    const spool = new Spool(file, { exclusive: true });
    const said: string[] = [];
    const prefix = `p6-${Date.now()}`;
    const fwd = new KafkaForwarder(spool, 'd', { brokers: broker.brokers.split(','), prefix, partitions: 2, say: (l) => said.push(l) });
    for (let i = 0; i < 10 && fwd.pending() > 0; i++) expect(await fwd.pump(), said.join('\n')).toBe(true);
    expect(fwd.pending()).toBe(0);
    expect(spool.cursor('kafka', 'd')).toBe(159);
    // Delivered past, the damaged batch is pruned with the rest; the next batches take the
    // rowids SQLite frees (1, then the damaged one's 2), and nothing of them is passed over.
    spool.prune('d', ['kafka']);
    const later = Array.from({ length: 40 }, (_, i) => ev('d', 160 + i));
    for (const commit of [later.slice(0, 20), later.slice(20)]) {
      for (const e of commit) spool.add(e);
      spool.commit();
    }
    for (let i = 0; i < 10 && fwd.pending() > 0; i++) expect(await fwd.pump(), said.join('\n')).toBe(true);
    await fwd.close();
    spool.close();
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^kafka: a batch of the spool \S+d\.spool does not read back \(session d, ingest_seq 40 to 79: .*\); its events are in the archive, not in p6-\d+\.raw$/);
    const read = [...(await readKafka({ brokers: broker.brokers.split(','), topic: `${prefix}.raw` })).sessions.values()].flat();
    expect(read.map((e) => e.ingestSeq)).toEqual([...all, ...later].filter((e) => e.ingestSeq < 40 || e.ingestSeq >= 80).map((e) => e.ingestSeq));
  }, 120_000);

  it('counts a damaged last batch as passed over, not as waiting for Kafka (what the stop\'s warning tells apart)', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'e.spool');
    writeSpool(file, 'e', [40, 40, 40]);
    damage(file, 2, 'one bit');
    const spool = new Spool(file, { exclusive: true });
    const said: string[] = [];
    const fwd = new KafkaForwarder(spool, 'e', { brokers: broker.brokers.split(','), prefix: `p7-${Date.now()}`, partitions: 1, say: (l) => said.push(l) });
    expect(fwd.passedOver()).toBe(0);
    for (let i = 0; i < 10 && fwd.pending() > 0; i++) expect(await fwd.pump(), said.join('\n')).toBe(true);
    await fwd.close();
    expect(said).toHaveLength(1);
    expect(fwd.delivered).toBe(80);
    // Nothing after it to deliver: the cursor stays before it, and its 40 events are in neither count of waiting.
    expect(spool.cursor('kafka', 'e')).toBe(79);
    expect(fwd.pending()).toBe(0);
    expect(fwd.passedOver()).toBe(40);
    expect(spool.countAfter('e', 79)).toBe(40);
    spool.close();
  }, 60_000);

  it('says in one line that the topic\'s leaders cannot be reached within its time', async () => {
    const { topic, kafka } = await freshTopic('p4', 1);
    // Kafka says the leader is at a closed port from the second time it is asked.
    let asked = 0;
    const learnLeaders = async (): Promise<Map<number, string>> => new Map([[0, asked++ === 0 ? broker.brokers.split(',')[0]! : '127.0.0.1:1']]);
    const producer = await OwnProducer.open(kafka, topic, 1, PRODUCE_TUNED, { retryForMs: 1_500, learnLeaders });
    (producer as unknown as { leaders: Map<number, string> }).leaders.set(0, '127.0.0.1:1');
    const err = await producer.send([event(1)]).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(new RegExp(`^${topic.replace('.', '\\.')}: not delivered within 1\\.5 s \\(last: Kafka at 127\\.0\\.0\\.1:1: connect ECONNREFUSED`));
    await producer.close();
  }, 60_000);
});
