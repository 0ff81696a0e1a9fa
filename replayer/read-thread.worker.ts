/**
 * The archive reader thread's body (see read-thread.ts): runs read.ts's merge, scans the
 * frames of exchanges whose adapters have a scanner, and posts the batches, at most CREDIT
 * ahead of the main thread's acknowledgements.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { exchangeSpec } from '../src/exchanges/registry.ts';
import { readArchiveBatches } from './read.ts';
import { CREDIT, scanAhead, WireEncoder, type ReadThreadInput, type WireMessage } from './read-wire.ts';

const port = parentPort!;
const { plan, range, scanAhead: always } = workerData as ReadThreadInput;
let credit = CREDIT;
let wake: (() => void) | undefined;
port.on('message', () => {
  credit++;
  const w = wake;
  wake = undefined;
  w?.();
});

const encoder = new WireEncoder((exchange) => exchangeSpec(exchange)?.scan);
const post = (m: WireMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
try {
  for await (const events of readArchiveBatches(plan, range)) {
    if (events.length === 0) continue;
    while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
    credit--;
    const { batch, transfer } = encoder.encode(events, always ?? scanAhead(credit));
    post({ batch }, transfer);
  }
  post({ done: true });
} catch (err) {
  post({ error: { name: (err as Error).name === 'Error' ? (err as Error).constructor.name : (err as Error).name, message: (err as Error).message } });
}
