/**
 * The live archive roll, spread over the recording instead of a minute's events at once.
 * `roll` (archiver.ts) read every committed event back from the spool every 60 s and
 * archived it in one go on the ingest thread: at a saturating rate that was a minute of
 * events (2M) read, encoded and ZSTD-compressed while nothing else ran, so commits and
 * ingest stalled and RSS jumped. Here each commit's rows go straight into open Parquet
 * files (ArchiveWriter: one row group in memory per file, encoded every ~2 MiB of payload),
 * and a roll only finishes the files; then, and only then, does the `archive` cursor move,
 * so a crash still loses nothing the spool had (the recorder's commits then prune the spool
 * a slice at a time: Spool.pruneSome).
 *
 * Two rollers, one interface. InlineRoller (the default) writes on the ingest thread, between
 * commits. ArchiveRoller (TAPEDECK_ROLL_THREAD=1) writes on a worker thread fed with the
 * compact wire form of replayer/read-wire.ts, so encoding never runs beside a commit;
 * measured at a saturating rate it costs 20–90 MiB more RSS (the worker's own heap, its
 * young generation capped at 8 MiB, and its queue), past the recorder's 300 MiB budget,
 * hence off by default (README, "The recorder's memory").
 * Its memory stays bounded: while more than MAX_QUEUED events wait for the worker, committed
 * rows stay only in the spool and are read back once it has caught up. A disk fault in
 * either comes back as an error with its code, and the recorder stops on it.
 */
import { Worker } from 'node:worker_threads';
import type { LogEvent } from '../src/log/event.ts';
import { WireEncoder, type WireBatch } from '../replayer/read-wire.ts';
import { workerEntry } from '../replayer/worker-entry.ts';
import { ArchiveWriter } from '../src/storage/archive.ts';
import type { Spool } from './spool.ts';

/** Main → worker. */
export type RollerRequest = { readonly batch: WireBatch } | { readonly flush: number };
/** Worker → main. */
export type RollerReply =
  | { readonly written: number }
  | { readonly flushed: number; readonly files: string[]; readonly upTo: number }
  | { readonly error: { readonly message: string; readonly code?: string } };

export interface RollerInput {
  readonly rawDir: string;
  readonly session: string;
}

const MAX_QUEUED = 50_000;
const CATCH_UP_ROWS = 20_000;

/** What the recorder needs of a roller (on a thread of its own, or in line). */
export interface Roller {
  add(rows: readonly LogEvent[]): void;
  readonly rolling: boolean;
  roll(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The same on the ingest thread: rows are written into the open files at each commit (a
 * row group is encoded every ~2 MiB of payload), files are finished at each roll. No
 * second heap, no read-back; the encoding runs between commits instead of beside them.
 */
export class InlineRoller implements Roller {
  private writer: ArchiveWriter;
  private upTo = -1;
  private failure: Error | undefined;

  constructor(private readonly spool: Spool, private readonly session: string, private readonly rawDir: string,
    private readonly onFault: (err: Error) => void) {
    this.writer = new ArchiveWriter(rawDir, session);
  }

  readonly rolling = false;

  add(rows: readonly LogEvent[]): void {
    if (this.failure) return;
    try {
      for (const ev of rows) this.writer.write(ev);
      if (rows.length > 0) this.upTo = rows.at(-1)!.ingestSeq;
    } catch (err) {
      this.fail(err as Error);
    }
  }

  roll(): Promise<string[]> {
    if (this.failure) return Promise.reject(this.failure);
    try {
      const files = this.writer.close();
      this.writer = new ArchiveWriter(this.rawDir, this.session);
      if (this.upTo >= 0) {
        this.spool.setCursor('archive', this.session, this.upTo);
      }
      return Promise.resolve(files);
    } catch (err) {
      this.fail(err as Error);
      return Promise.reject(err);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.onFault(err);
  }
}

export class ArchiveRoller implements Roller {
  private readonly worker: Worker;
  private readonly encoder = new WireEncoder();
  /** The last ingest_seq handed to the worker. */
  private sentUpTo: number;
  /** The last ingest_seq of a commit handed in (to the worker, or left in the spool). */
  private addedUpTo: number;
  private queued = 0;
  /** Committed rows wait in the spool only (the worker was behind). */
  private behind = false;
  private flushId = 0;
  private readonly flushes = new Map<number, { resolve: (files: string[]) => void; reject: (err: Error) => void }>();
  private failure: Error | undefined;
  /** A roll is handing over what waits in the spool. */
  private catchingUp = false;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly spool: Spool, private readonly session: string, rawDir: string,
    private readonly onFault: (err: Error) => void) {
    this.sentUpTo = spool.cursor('archive', session);
    this.addedUpTo = this.sentUpTo;
    const entry = workerEntry(new URL('./roller.worker.ts', import.meta.url), new URL('./roller.worker.mjs', import.meta.url));
    this.worker = new Worker(entry, {
      workerData: { rawDir, session } satisfies RollerInput, resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 },
    });
    this.worker.on('message', (m: RollerReply) => this.onReply(m));
    this.worker.on('error', (err) => this.fail(err));
    // Gone without an error (out of memory, killed): nothing would answer a roll.
    this.worker.on('exit', (code) => this.fail(new Error(`the archive roller thread exited (code ${code})`)));
  }

  /** Hands the rows of a commit over (or leaves them in the spool while the worker is behind). */
  add(rows: readonly LogEvent[]): void {
    if (this.failure || rows.length === 0) return;
    this.addedUpTo = rows.at(-1)!.ingestSeq;
    if (!this.behind && this.queued < MAX_QUEUED && rows[0]!.ingestSeq === this.sentUpTo + 1) return this.send(rows);
    this.behind = true;
    this.catchUp();
  }

  /** Whether a roll is under way (the timer skips a roll while the last one runs). */
  get rolling(): boolean {
    return this.catchingUp || this.flushes.size > 0;
  }

  /** Events handed to the worker and not yet written: a slice of the spool past MAX_QUEUED at most. */
  get queuedEvents(): number {
    return this.queued;
  }

  /**
   * Finishes the worker's files; resolves with them once the cursor has moved and the spool is pruned.
   * What waits in the spool up to the last commit handed in is handed over first, a slice at
   * a time (a stop behind by minutes of events reads them back in slices, not all at once);
   * commits made meanwhile are the next roll's, so a roll ends even while ingest outruns the worker.
   */
  async roll(): Promise<string[]> {
    const upTo = this.addedUpTo;
    this.catchingUp = true;
    try {
      for (this.catchUp(); this.behind && !this.failure && this.sentUpTo < upTo; this.catchUp()) await this.lessQueued();
    } finally {
      this.catchingUp = false;
    }
    if (this.failure) throw this.failure;
    const id = ++this.flushId;
    return new Promise((resolve, reject) => {
      this.flushes.set(id, { resolve, reject });
      this.worker.postMessage({ flush: id } satisfies RollerRequest);
    });
  }

  /** Stops the worker; a roll still waiting on it fails (the spool keeps what it had not archived). */
  async close(): Promise<void> {
    if (!this.failure) this.stop(new Error('the archive roller was closed'));
    await this.worker.terminate();
  }

  /**
   * Reads back from the spool what was left there while the worker was behind, until
   * MAX_QUEUED events wait for it. A batch that does not read back (SpoolDamaged) or a disk
   * fault is the roller's failure: the recorder stops on it, the spool kept as it is.
   */
  private catchUp(): void {
    try {
      while (this.behind && !this.failure && this.queued < MAX_QUEUED) {
        const rows = this.spool.after(this.session, this.sentUpTo, CATCH_UP_ROWS);
        if (rows.length === 0) this.behind = false;
        else this.send(rows);
      }
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Resolves when the worker has written some of what waits for it (or the roller failed). */
  private lessQueued(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private send(rows: readonly LogEvent[]): void {
    const { batch, transfer } = this.encoder.encode(rows);
    this.worker.postMessage({ batch } satisfies RollerRequest, transfer);
    this.sentUpTo = rows.at(-1)!.ingestSeq;
    this.queued += rows.length;
  }

  private onReply(m: RollerReply): void {
    if ('written' in m) {
      this.queued -= m.written;
      for (const w of this.waiting.splice(0)) w();
    } else if ('flushed' in m) {
      // A flush the roller gave up on (closed, or failed) may still answer: its files are
      // whole, so the cursor moves all the same; nobody waits for it.
      const done = this.flushes.get(m.flushed);
      this.flushes.delete(m.flushed);
      try {
        if (m.upTo >= 0) {
          this.spool.setCursor('archive', this.session, m.upTo);
        }
      } catch (err) {
        return this.fail(err as Error);
      }
      done?.resolve(m.files);
    } else {
      this.fail(Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {}));
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.stop(err);
    this.onFault(err);
  }

  /** Nothing more is handed over; the rolls under way, or waiting on the worker, end with `err`. */
  private stop(err: Error): void {
    this.failure = err;
    for (const f of this.flushes.values()) f.reject(err);
    this.flushes.clear();
    for (const w of this.waiting.splice(0)) w();
  }
}
