/**
 * The archive roller thread's body (see roller.ts): writes each batch it is handed into
 * the open archive files, acknowledges it, and at a flush finishes the files and says up
 * to which ingest_seq they hold. A new ArchiveWriter per roll, so that a failing write
 * removes only files whose rows the spool still has.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WireDecoder } from '../replayer/read-wire.ts';
import { ArchiveWriter } from '../src/storage/archive.ts';
import type { RollerInput, RollerReply, RollerRequest } from './roller.ts';

const port = parentPort!;
const { rawDir, session } = workerData as RollerInput;
const decoder = new WireDecoder();
const post = (m: RollerReply): void => port.postMessage(m);
let writer = new ArchiveWriter(rawDir, session);
let upTo = -1;
let failed = false;

port.on('message', (m: RollerRequest) => {
  if (failed) return;
  try {
    if ('batch' in m) {
      const events = decoder.decode(m.batch);
      for (const ev of events) writer.write(ev);
      upTo = events.at(-1)?.ingestSeq ?? upTo;
      post({ written: events.length });
    } else {
      const files = writer.close();
      writer = new ArchiveWriter(rawDir, session);
      post({ flushed: m.flush, files, upTo });
    }
  } catch (err) {
    failed = true;
    const code = (err as { code?: unknown }).code;
    post({ error: { message: (err as Error).message, ...(typeof code === 'string' ? { code } : {}) } });
  }
});
