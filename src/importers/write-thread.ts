/**
 * The import's archive writer on the second core: a worker thread runs ArchiveWriter
 * (Parquet encoding, ZSTD, the files) while the main thread reads, parses and takes the
 * decode census. After the import's own costs were cut, writing was ~45 % of its
 * main-thread time (test/bench/import-profile.ts --stages); on its own thread it overlaps.
 *
 * Rows cross as row-wire.ts's batches (typed arrays, payloads already UTF-8), in order, to
 * the same ArchiveWriter with the same options: the files are byte for byte those written
 * in line (test/int/import-thread.int.test.ts). At most CREDIT batches are in flight
 * (`drained()`), so memory stays bounded whatever the input's length.
 * TAPEDECK_IMPORT_THREAD=0 writes in line instead.
 */
import { Worker } from 'node:worker_threads';
import type { LogEvent } from '../log/event.ts';
import { checkSessionId, type ArchiveWriterOptions } from '../storage/archive.ts';
import { RowEncoder, type RowBatch } from './row-wire.ts';
import { workerEntry } from '../../replayer/worker-entry.ts';

/** What the writer thread can be told: the options that are plain data. */
export type ThreadWriterOptions = Pick<ArchiveWriterOptions, 'maxRows' | 'rowGroupRows' | 'rowGroupChars' | 'pageSize'>;

/** What the worker is started with. */
export interface WriteThreadInput {
  readonly root: string;
  readonly session: string;
  readonly opts: ThreadWriterOptions;
}

export type ToWriter = { readonly batch: RowBatch } | { readonly close: true } | { readonly abort: true };
export type FromWriter = { readonly ack: true } | { readonly files: string[] } | { readonly error: { readonly message: string; readonly code?: string } };

/** Rows per batch posted to the worker, and how many batches may be in flight. */
const BATCH_ROWS = 4096;
const CREDIT = 8;

/** ArchiveWriter's `write`/`close`/`abort`, on a worker thread. */
export class ArchiveWriterThread {
  private readonly worker: Worker;
  private readonly encoder = new RowEncoder();
  private pending: LogEvent[] = [];
  /** Where each pending row's payload already is as bytes, if known (RowEncoder.encode). */
  private pendingBytes: (Uint8Array | undefined)[] = [];
  private pendingAt: number[] = [];
  private inFlight = 0;
  private failure: Error | undefined;
  private exited = false;
  private wake: (() => void) | undefined;
  private result: string[] | undefined;

  constructor(root: string, session: string, opts: ThreadWriterOptions = {}) {
    checkSessionId(session);
    const workerData: WriteThreadInput = { root, session, opts };
    const entry = workerEntry(new URL('./write-thread.worker.ts', import.meta.url), new URL('./write-thread.worker.mjs', import.meta.url));
    this.worker = new Worker(entry, { workerData });
    this.worker.on('message', (m: FromWriter) => {
      if ('ack' in m) this.inFlight--;
      else if ('files' in m) this.result = m.files;
      else this.failure ??= Object.assign(new Error(m.error.message), m.error.code !== undefined ? { code: m.error.code } : {});
      this.notify();
    });
    this.worker.on('error', (err) => {
      this.failure ??= err;
      this.notify();
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.failure ??= new Error(`the archive writer thread stopped (exit code ${code})`);
      this.notify();
    });
  }

  /** `bytes[at, …)`: the payload already as ASCII bytes (RowEncoder.encode), if known. */
  write(ev: LogEvent, bytes?: Uint8Array, at = 0): void {
    if (this.failure !== undefined) throw this.failure;
    this.pending.push(ev);
    this.pendingBytes.push(bytes);
    this.pendingAt.push(at);
    if (this.pending.length >= BATCH_ROWS) this.send();
  }

  /** Resolves once fewer than CREDIT batches are in flight (undefined: already so); rejects if the thread failed. */
  drained(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.inFlight < CREDIT ? undefined : this.until(() => this.inFlight < CREDIT);
  }

  /** Finishes every open file; the files written, as ArchiveWriter.close() gives them. */
  async close(): Promise<string[]> {
    this.send();
    this.post({ close: true });
    await this.until(() => this.result !== undefined);
    await this.worker.terminate();
    return this.result!;
  }

  /**
   * Removes every file the writer made (the thread's ArchiveWriter.abort(), which it runs
   * after a failure of its own too), then stops the thread.
   */
  async abort(): Promise<void> {
    this.pending = [];
    this.pendingBytes = [];
    this.pendingAt = [];
    if (!this.exited) {
      this.post({ abort: true });
      await this.until(() => this.result !== undefined || this.exited, false);
    }
    await this.worker.terminate();
  }

  private send(): void {
    if (this.pending.length === 0) return;
    const { batch, transfer } = this.encoder.encode(this.pending, this.pendingBytes, this.pendingAt);
    this.pending = [];
    this.pendingBytes = [];
    this.pendingAt = [];
    this.inFlight++;
    this.post({ batch }, transfer);
  }

  private post(m: ToWriter, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Waits until `done()` holds; rejects with the thread's failure unless told to wait on. */
  private async until(done: () => boolean, failFast = true): Promise<void> {
    for (;;) {
      if (done()) return;
      if (failFast && this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
