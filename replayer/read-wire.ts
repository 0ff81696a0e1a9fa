/**
 * What crosses between the archive reader thread (read-thread.ts) and the thread that folds:
 * batches of LogEvents as typed arrays (receive times, ingest sequences, kinds; moved, not
 * copied), session/exchange/conn as indexes into a string table sent once per new string,
 * payload/meta as arrays of strings; and the credit that bounds how far the reader runs ahead.
 */
import type { MessagePort } from 'node:worker_threads';
import { LOG_KINDS, type LogEvent } from '../src/log/event.ts';
import { KIND_CODE, StringNumbers, StringTable } from '../src/log/wire-strings.ts';
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
}

/** What the worker posts: a batch, the end, or why it stopped. */
export type WireMessage = { readonly batch: WireBatch } | { readonly done: true } | { readonly error: { readonly name: string; readonly message: string } };

/** Batches the worker may run ahead of the fold (each at most read.ts's BATCH_ROWS events). */
export const CREDIT = 8;

/**
 * A reader thread's side of the credit: the function it returns resolves once the thread
 * that folds has room for one more batch (CREDIT at first, one more per message it sends on
 * `port`), and uses that room.
 */
export function creditGate(port: MessagePort): () => Promise<void> {
  let credit = CREDIT;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    credit++;
    const w = wake;
    wake = undefined;
    w?.();
  });
  return async () => {
    while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
    credit--;
  };
}

/** An error as a reader thread posts it: its class's name (a subclass that keeps the name `Error` by its constructor's) and message. */
export function wireError(err: unknown): { name: string; message: string } {
  const e = err as Error;
  return { name: e.name === 'Error' ? e.constructor.name : e.name, message: e.message };
}

/** Encodes batches, growing the string table that `WireDecoder` mirrors. */
export class WireEncoder {
  private readonly strings = new StringNumbers();

  encode(events: readonly LogEvent[]): { batch: WireBatch; transfer: ArrayBuffer[] } {
    const n = events.length;
    const recvNs = new BigInt64Array(n);
    const ingestSeq = new Float64Array(n);
    const kind = new Uint8Array(n);
    const session = new Uint32Array(n);
    const exchange = new Uint32Array(n);
    const conn = new Uint32Array(n);
    const payload = new Array<string>(n);
    const meta = new Array<string>(n);
    const fresh: string[] = [];
    for (let i = 0; i < n; i++) {
      const ev = events[i]!;
      recvNs[i] = ev.recvNs;
      ingestSeq[i] = ev.ingestSeq;
      kind[i] = KIND_CODE.get(ev.kind)!;
      session[i] = this.strings.of(ev.session, fresh);
      exchange[i] = this.strings.of(ev.exchange, fresh);
      conn[i] = this.strings.of(ev.conn, fresh);
      payload[i] = ev.payload;
      meta[i] = ev.meta;
    }
    const batch = { n, recvNs, ingestSeq, kind, session, exchange, conn, payload, meta, fresh };
    return { batch, transfer: [recvNs.buffer, ingestSeq.buffer, kind.buffer, session.buffer, exchange.buffer, conn.buffer] as ArrayBuffer[] };
  }
}

/** Turns wire batches back into LogEvents, equal field for field to the encoded ones. */
export class WireDecoder {
  private readonly strings = new StringTable();

  decode(b: WireBatch): LogEvent[] {
    const t = this.strings.add(b.fresh);
    const out = new Array<LogEvent>(b.n);
    for (let i = 0; i < b.n; i++) {
      out[i] = {
        session: t[b.session[i]!]!, ingestSeq: b.ingestSeq[i]!, recvNs: b.recvNs[i]!, exchange: t[b.exchange[i]!]!,
        conn: t[b.conn[i]!]!, kind: LOG_KINDS[b.kind[i]!]!, payload: b.payload[i]!, meta: b.meta[i]!,
      };
    }
    return out;
  }
}

/** What the worker is started with. */
export interface ReadThreadInput {
  readonly plan: ArchivePlan;
  readonly range: TimeRange;
}
