/**
 * One producer run of the client comparison, in a process of its own (so that each client
 * runs on the Node it needs: @platformatic/kafka wants Node >= 22):
 *
 *   node --import tsx test/bench/kafka-produce.ts <variant> <brokers> <topic> <events.jsonl>
 *
 * Reads the LogEvents (not timed), produces them to the topic in requests cut by the
 * variant's settings with its number of requests in flight, and prints
 * `{"ms":…,"cpuMs":…,"events":…,"records":…}`: the time from the first send to the last
 * acknowledgement (the connection is made beforehand) and the CPU time this process spent
 * in it, which load from elsewhere on the machine moves far less than the wall time.
 */
import fs from 'node:fs';
import type { LogEvent } from '../../src/log/event.ts';
import { cutBatch, kafkaClient, kafkajsProducer, partitionsFor, platformaticProducer } from '../../src/storage/kafka.ts';
import { OwnProducer } from '../../src/storage/kafka-produce.ts';
import { CLIENT_VARIANTS, PARTITIONS } from './kafka-clients.ts';

const [name, brokers, topic, file] = process.argv.slice(2) as [string, string, string, string];
const variant = CLIENT_VARIANTS.find((v) => v.name === name);
if (!variant) throw new Error(`no client variant ${name}`);
const [first, ...events]: LogEvent[] = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => {
  const e = JSON.parse(line) as LogEvent & { recvNs: string };
  return { ...e, recvNs: BigInt(e.recvNs) };
});
const list = brokers.split(',');
const producers = {
  platformatic: () => platformaticProducer(list, topic, PARTITIONS, variant.settings),
  kafkajs: () => kafkajsProducer(kafkaClient(list, 'tapedeck-bench'), topic, PARTITIONS, variant.settings),
  tapedeck: () => OwnProducer.open(kafkaClient(list, 'tapedeck-bench'), topic, PARTITIONS, variant.settings),
};
const producer = await producers[variant.client]();
// A first request connects (metadata, producer id) before the clock starts.
await producer.send([first!]);

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const inFlight = new Set<Promise<void>>();
for (let i = 0; i < events.length;) {
  const batch = cutBatch(events.slice(i, i + variant.settings.maxEvents), PARTITIONS, variant.settings);
  i += batch.length;
  const sent = producer.send(batch).finally(() => inFlight.delete(sent));
  inFlight.add(sent);
  if (inFlight.size >= variant.inFlight) await Promise.race(inFlight);
}
await Promise.all(inFlight);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
await producer.close();
const records = events.reduce((n, ev) => n + partitionsFor(ev, PARTITIONS).length, 0);
console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, events: events.length, records }));
