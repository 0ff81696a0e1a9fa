/**
 * The archive reader thread's body (see read-thread.ts): runs read.ts's merge and posts its
 * batches, at most CREDIT ahead of the main thread's acknowledgements.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readArchiveBatches } from './read.ts';
import { WireEncoder, creditGate, wireError, type ReadThreadInput, type WireMessage } from './read-wire.ts';

const port = parentPort!;
const { plan, range } = workerData as ReadThreadInput;
const credit = creditGate(port);

const encoder = new WireEncoder();
const post = (m: WireMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
try {
  for await (const events of readArchiveBatches(plan, range)) {
    if (events.length === 0) continue;
    await credit();
    const { batch, transfer } = encoder.encode(events);
    post({ batch }, transfer);
  }
  post({ done: true });
} catch (err) {
  post({ error: wireError(err) });
}
