/**
 * The archive writer thread's body (see write-thread.ts): writes each batch's rows, in order, with one ArchiveWriter; acknowledges each batch, and answers `close`
 * with the files written. After a failure (the writer has then removed its files) it only
 * reports it, and still answers `abort`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ArchiveWriter } from '../storage/archive.ts';
import { RowDecoder } from './row-wire.ts';
import type { FromWriter, ToWriter, WriteThreadInput } from './write-thread.ts';

const port = parentPort!;
const { root, session, opts } = workerData as WriteThreadInput;
const decoder = new RowDecoder();
let writer: ArchiveWriter | undefined;
let failed = false;
const post = (m: FromWriter): void => port.postMessage(m);

port.on('message', (m: ToWriter) => {
  if ('abort' in m) {
    writer?.abort();
    post({ files: [] });
    return;
  }
  if (failed) return;
  try {
    writer ??= new ArchiveWriter(root, session, opts);
    if ('batch' in m) {
      decoder.decode(m.batch, writer);
      post({ ack: true });
    } else {
      post({ files: writer.close() });
    }
  } catch (err) {
    failed = true;
    const e = err as NodeJS.ErrnoException;
    post({ error: { message: e.message, ...(e.code !== undefined ? { code: e.code } : {}) } });
  }
});
