/**
 * An archive into a Kafka topic, as the recorder's forwarder would deliver it: its events in
 * replay order, through the recorder's producer (tapedeck's own, or kafkajs with
 * TAPEDECK_KAFKA_PRODUCER=kafkajs) cut into requests by its settings (PRODUCE_TUNED),
 * idempotent, acks=all. For the bench and the tests, which need big topics of a known archive.
 *
 *   node --import tsx test/kafka/produce-archive.ts <brokers> <topic> <archive dir> [partitions]
 *
 * makes a topic once by hand (e.g. the 10M-event bench topic, kept between runs).
 */
import { pathToFileURL } from 'node:url';
import { planArchive, readArchiveBatches } from '../../replayer/read.ts';
import { cutBatch, ensureTopic, kafkaClient, PRODUCE_TUNED } from '../../src/storage/kafka.ts';
import { openLogProducer } from '../../src/storage/kafka-produce.ts';

/** Produces the archive at `dir` to `topic` (created with `partitions`, no time retention); returns the events sent and the time it took. */
export async function produceArchive(brokers: string[], topic: string, dir: string, partitions = 4, progress?: (events: number) => void): Promise<{ events: number; ms: number }> {
  const kafka = kafkaClient(brokers, 'tapedeck-produce');
  const admin = kafka.admin();
  await admin.connect();
  // The generated sessions are of 2024: without `keep`, retention would delete them.
  const n = await ensureTopic(admin, topic, partitions, { keep: true });
  await admin.disconnect();
  const producer = await openLogProducer(kafka, topic, n);
  let events = 0;
  const t0 = performance.now();
  try {
    for await (const batch of readArchiveBatches(await planArchive(dir))) {
      for (let i = 0; i < batch.length;) {
        const cut = cutBatch(batch.slice(i, i + PRODUCE_TUNED.maxEvents), n, PRODUCE_TUNED);
        await producer.send(cut);
        i += cut.length;
      }
      events += batch.length;
      progress?.(events);
    }
  } finally {
    await producer.close();
  }
  return { events, ms: performance.now() - t0 };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [brokers, topic, dir, partitions] = process.argv.slice(2);
  if (!brokers || !topic || !dir) {
    console.error('usage: node --import tsx test/kafka/produce-archive.ts <brokers> <topic> <archive dir> [partitions]');
    process.exit(2);
  }
  let shown = 0;
  const r = await produceArchive(brokers.split(','), topic, dir, partitions ? Number(partitions) : 4, (n) => {
    if (n - shown >= 500_000) console.log(`${(shown = n).toLocaleString('en-US')} events`);
  });
  console.log(`${r.events} events to ${topic} in ${(r.ms / 1000).toFixed(1)} s (${Math.round(r.events / (r.ms / 1000))} events/s)`);
}
