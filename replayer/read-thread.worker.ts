/**
 * The archive reader thread's body (see read-thread.ts): runs read.ts's merge and posts its
 * batches, at most CREDIT ahead of the main thread's acknowledgements.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readArchiveBatches } from './read.ts';
import { CREDIT, WireEncoder, type ReadThreadInput, type WireMessage } from './read-wire.ts';

const port = parentPort!;
const { plan, range } = workerData as ReadThreadInput;
let credit = CREDIT;
let wake: (() => void) | undefined;
port.on('message', () => {
  credit++;
  const w = wake;
  wake = undefined;
  w?.();
});

const encoder = new WireEncoder();
const post = (m: WireMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
try {
  for await (const events of readArchiveBatches(plan, range)) {
    if (events.length === 0) continue;
    while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
    credit--;
    const { batch, transfer } = encoder.encode(events);
    post({ batch }, transfer);
  }
  post({ done: true });
} catch (err) {
  post({ error: { name: (err as Error).name === 'Error' ? (err as Error).constructor.name : (err as Error).name, message: (err as Error).message } });
}
