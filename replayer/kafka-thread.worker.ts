/**
 * The Kafka reader thread's body (see kafka-thread.ts): opens the stream, posts its merged
 * batches in read-wire.ts's form with the stream's counters, at most CREDIT ahead of the
 * main thread's acknowledgements.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openKafka, type KafkaStream } from './kafka-source.ts';
import type { KafkaThreadInput, KafkaThreadMessage, KafkaThreadStats } from './kafka-thread.ts';
import { WireEncoder, creditGate, wireError } from './read-wire.ts';

const port = parentPort!;
const { target, opts } = workerData as KafkaThreadInput;
const send = (m: KafkaThreadMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const credit = creditGate(port);

const statsOf = (s: KafkaStream): KafkaThreadStats => ({ sessions: s.sessions(), duplicates: s.duplicates(), resends: s.resends(), onlyResent: s.onlyResent(), peak: [...s.peakBuffered()] });

try {
  const stream = await openKafka(target, opts);
  send({ open: { partitions: stream.partitions, records: stream.records } });
  const encoder = new WireEncoder();
  for await (const events of stream.batches()) {
    if (events.length === 0) continue;
    await credit();
    const { batch, transfer } = encoder.encode(events);
    send({ batch, stats: statsOf(stream) }, transfer);
  }
  send({ done: statsOf(stream) });
} catch (err) {
  send({ error: wireError(err) });
}
