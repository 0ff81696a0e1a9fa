/**
 * The archive read on the second core: a worker thread reads, decompresses and merges the
 * Parquet files (read.ts, unchanged) and hands the main thread batches of LogEvents in a
 * compact form, so the main thread only folds. Reading was ~40 % of a replay's time on
 * one thread (issue 9); on its own thread it overlaps the fold.
 *
 * The order and content of the events are read.ts's by construction: the worker runs the
 * same merge and sends every event it yields, in order. What crosses the thread boundary
 * per batch: receive times, ingest sequences and kinds as typed arrays (moved, not
 * copied), session/exchange/conn as indexes into a string table sent once per new string,
 * payload/meta as arrays of strings, and each frame's scan (the stateless first half of its
 * adapter's fast path, fast-path.ts), done here because this thread has time to spare and
 * the folding thread has none. The worker runs at most CREDIT batches ahead, so
 * memory stays bounded whatever the archive's length.
 */
import { Worker } from 'node:worker_threads';
import { LOG_KINDS, type LogEvent, type LogKind } from '../src/log/event.ts';
import { NOT_SCANNED, ScanPacker, type Prescanned, type Scanner } from '../src/exchanges/fast-path.ts';
import { ArchiveError } from '../src/storage/archive.ts';
import type { ArchivePlan, TimeRange } from './read.ts';

/** A batch as it crosses between threads. */
export interface WireBatch {
  readonly n: number;
  readonly recvNs: BigInt64Array;
  readonly ingestSeq: Float64Array;
  readonly kind: Uint8Array;
  /** Indexes into the string table (session, exchange, conn). */
  readonly session: Uint32Array;
  readonly exchange: Uint32Array;
  readonly conn: Uint32Array;
  readonly payload: string[];
  readonly meta: string[];
  /** Strings first used by this batch, appended to the table in order. */
  readonly fresh: string[];
  /** Per event: where its frame's scan is packed in `scans`, or NOT_SCANNED. */
  readonly scanAt: Int32Array;
  readonly scans: Int32Array;
}

/** What the worker posts: a batch, the end, or why it stopped. */
export type WireMessage = { readonly batch: WireBatch } | { readonly done: true } | { readonly error: { readonly name: string; readonly message: string } };

/** Batches the worker may run ahead of the fold (each at most read.ts's BATCH_ROWS events). */
export const CREDIT = 8;

/**
 * Whether the reader thread scans the next batch's frames, given its credit left: only when
 * the fold lags (at most half the credit left), so the scanning goes to whichever thread has
 * time to spare — the fold's on a machine where reading is the slower half (Node 26 here),
 * the reader's where folding is. Who scans never changes a result: a scan is a pure function
 * of the frame (test/property/decode-equivalence.test.ts, test/unit/read-thread.test.ts).
 */
export const scanAhead = (credit: number): boolean => credit <= CREDIT / 2;

/**
 * Encodes batches, growing the string table that `WireDecoder` mirrors. With `scannerOf`,
 * each frame of an exchange that has a scanner is scanned here (fast-path.ts), so the
 * thread that decodes only unpacks the fields.
 */
export class WireEncoder {
  private readonly table = new Map<string, number>();
  private readonly packer = new ScanPacker();

  constructor(private readonly scannerOf: (exchange: string) => Scanner | undefined = () => undefined) {}

  /** `scan`: scan this batch's frames here (else the decoding thread scans them itself). */
  encode(events: readonly LogEvent[], scan = true): { batch: WireBatch; transfer: ArrayBuffer[] } {
    const n = events.length;
    const recvNs = new BigInt64Array(n);
    const ingestSeq = new Float64Array(n);
    const kind = new Uint8Array(n);
    const session = new Uint32Array(n);
    const exchange = new Uint32Array(n);
    const conn = new Uint32Array(n);
    const payload = new Array<string>(n);
    const meta = new Array<string>(n);
    const scanAt = new Int32Array(n);
    const fresh: string[] = [];
    const index = (s: string): number => {
      let i = this.table.get(s);
      if (i === undefined) {
        i = this.table.size;
        this.table.set(s, i);
        fresh.push(s);
      }
      return i;
    };
    for (let i = 0; i < n; i++) {
      const ev = events[i]!;
      recvNs[i] = ev.recvNs;
      ingestSeq[i] = ev.ingestSeq;
      kind[i] = KIND_CODE.get(ev.kind)!;
      session[i] = index(ev.session);
      exchange[i] = index(ev.exchange);
      conn[i] = index(ev.conn);
      payload[i] = ev.payload;
      meta[i] = ev.meta;
      const scanner = scan && ev.kind === 'frame' ? this.scannerOf(ev.exchange) : undefined;
      scanAt[i] = scanner === undefined ? NOT_SCANNED : this.packer.pack(scanner(ev.payload));
    }
    const scans = this.packer.take();
    const batch = { n, recvNs, ingestSeq, kind, session, exchange, conn, payload, meta, fresh, scanAt, scans };
    const transfer = [recvNs.buffer, ingestSeq.buffer, kind.buffer, session.buffer, exchange.buffer, conn.buffer, scanAt.buffer, scans.buffer];
    return { batch, transfer: transfer as ArrayBuffer[] };
  }
}

const KIND_CODE = new Map<LogKind, number>(LOG_KINDS.map((k, i) => [k, i]));

/**
 * Turns wire batches back into LogEvents, equal field for field to the encoded ones, each
 * carrying its frame's scan (Prescanned) for the adapter's fast path.
 */
export class WireDecoder {
  private readonly table: string[] = [];

  decode(b: WireBatch): (LogEvent & Prescanned)[] {
    for (const s of b.fresh) this.table.push(s);
    const t = this.table;
    const out = new Array<LogEvent & Prescanned>(b.n);
    for (let i = 0; i < b.n; i++) {
      out[i] = {
        session: t[b.session[i]!]!, ingestSeq: b.ingestSeq[i]!, recvNs: b.recvNs[i]!, exchange: t[b.exchange[i]!]!,
        conn: t[b.conn[i]!]!, kind: LOG_KINDS[b.kind[i]!]!, payload: b.payload[i]!, meta: b.meta[i]!,
        scanBuf: b.scans, scanAt: b.scanAt[i]!,
      };
    }
    return out;
  }
}

/**
 * The reader thread's heap. Its need does not grow with the archive (CREDIT batches, and
 * a slice of each open file's row group: a 1M-event demo archive reads in 40 MB, not in
 * 24), but V8 grows a heap lazily towards limits sized for the machine: capped, the whole
 * replay's peak RSS fell from ~310 to ~250 MB on that archive.
 */
export const READER_HEAP = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 } as const;

/** What the worker is started with. */
export interface ReadThreadInput {
  readonly plan: ArchivePlan;
  readonly range: TimeRange;
  /** Scan every batch's frames ahead (true), none (false), or as scanAhead decides (absent). */
  readonly scanAhead?: boolean;
}

/**
 * The archive in replay order, as read.ts's readArchiveBatches gives it, read on a worker
 * thread. The worker stops when the stream ends, fails, or the consumer stops early.
 */
export async function* readArchiveThreaded(plan: ArchivePlan, range: TimeRange = {}, opts: { scanAhead?: boolean; heapMb?: number } = {}): AsyncGenerator<LogEvent[]> {
  const heap = { ...READER_HEAP, ...(opts.heapMb !== undefined ? { maxOldGenerationSizeMb: opts.heapMb } : {}) };
  const workerData: ReadThreadInput = { plan, range, ...(opts.scanAhead !== undefined ? { scanAhead: opts.scanAhead } : {}) };
  const worker = new Worker(new URL('./read-thread.worker.mjs', import.meta.url), { workerData, resourceLimits: heap });
  const inbox: WireMessage[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  worker.on('message', (m: WireMessage) => {
    inbox.push(m);
    notify();
  });
  worker.on('error', (err) => {
    failure ??= (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new ArchiveError(`the archive reader thread ran out of its ${heap.maxOldGenerationSizeMb} MB heap (rows larger than tapedeck writes?); replay with TAPEDECK_READ_THREAD=0 to read in line`)
      : err;
    notify();
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`the archive reader thread stopped (exit code ${code})`);
    notify();
  });
  const decoder = new WireDecoder();
  try {
    for (;;) {
      // Messages already received come before a failure noticed after them.
      while (inbox.length === 0 && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
      const m = inbox.shift();
      if (m === undefined) throw failure!;
      if ('done' in m) return;
      if ('error' in m) throw m.error.name === 'ArchiveError' ? new ArchiveError(m.error.message) : new Error(m.error.message);
      worker.postMessage(1);
      yield decoder.decode(m.batch);
    }
  } finally {
    worker.removeAllListeners();
    worker.on('error', () => {}); // whatever it says while stopping, the read is over
    await worker.terminate();
  }
}
