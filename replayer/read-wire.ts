/**
 * What crosses between the archive reader thread (read-thread.ts) and the thread that folds:
 * batches of LogEvents as typed arrays (receive times, ingest sequences, kinds; moved, not
 * copied), session/exchange/conn as indexes into a string table sent once per new string,
 * payload/meta as arrays of strings, and each frame's scan (the stateless first half of its
 * adapter's fast path, fast-path.ts) when the reader thread did it; and the credit that
 * bounds how far the reader runs ahead.
 */
import { LOG_KINDS, type LogEvent, type LogKind } from '../src/log/event.ts';
import { NOT_SCANNED, ScanPacker, type Prescanned, type Scanner } from '../src/exchanges/fast-path.ts';
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

/** What the worker is started with. */
export interface ReadThreadInput {
  readonly plan: ArchivePlan;
  readonly range: TimeRange;
  /** Scan every batch's frames ahead (true), none (false), or as scanAhead decides (absent). */
  readonly scanAhead?: boolean;
}
