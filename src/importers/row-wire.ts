/**
 * What crosses to the import's archive writer thread (write-thread.ts): rows as RowBatch,
 * numbers and times in typed arrays, exchange/conn as indexes into a string table sent
 * once per new string, and the payloads already UTF-8 in one buffer, moved, not copied
 * (copied there from the bytes the lines were read from, when the caller says where they
 * are). The thread hands each payload's bytes to ArchiveWriter.writeEncoded, so nothing is
 * encoded twice. Kept apart from write-thread.ts, which finds its worker through
 * `import.meta`: a module that does cannot be in the worker's bundle.
 */
import { LOG_KINDS, type LogEvent, type LogKind } from '../log/event.ts';
import { KIND_CODE, StringNumbers, StringTable } from '../log/wire-strings.ts';

/** Rows as they cross to the writer thread. */
export interface RowBatch {
  readonly n: number;
  readonly ingestSeq: Float64Array;
  readonly recvNs: BigInt64Array;
  /** Index into LOG_KINDS. */
  readonly kind: Uint8Array;
  /** Indexes into the string table; `fresh` are the strings this batch adds to it, in order. */
  readonly exchange: Uint32Array;
  readonly conn: Uint32Array;
  readonly fresh: string[];
  /**
   * Row i's meta is `metas[metaAt[i]]`, or empty where `metaAt[i]` is -1 (nearly every row:
   * only `open`/`sent`/`rest` rows and unreadable lines have one), so that a batch does not
   * clone an array of empty strings.
   */
  readonly metaAt: Int32Array;
  readonly metas: string[];
  /** Row i's payload is `payload[starts[i], ends[i])`, UTF-8; `chars[i]` its length as text. */
  readonly payload: Uint8Array;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly chars: Uint32Array;
}

/** Encodes rows as RowBatch, growing the string table the thread mirrors. */
export class RowEncoder {
  private readonly strings = new StringNumbers();

  /**
   * `bytes[i]`, when given, holds row i's payload already as UTF-8, all ASCII (so as long in
   * bytes as in characters), at `at[i]`: it crosses as a copy of those bytes (the import
   * reads its lines as bytes), not encoded again from its text.
   */
  encode(rows: readonly LogEvent[], bytes: readonly (Uint8Array | undefined)[] = [], at: readonly number[] = []): { batch: RowBatch; transfer: ArrayBuffer[] } {
    const n = rows.length;
    const ingestSeq = new Float64Array(n);
    const recvNs = new BigInt64Array(n);
    const kind = new Uint8Array(n);
    const exchange = new Uint32Array(n);
    const conn = new Uint32Array(n);
    const starts = new Uint32Array(n);
    const ends = new Uint32Array(n);
    const chars = new Uint32Array(n);
    const metaAt = new Int32Array(n);
    const metas: string[] = [];
    const fresh: string[] = [];
    // Rows found in the same bytes, one after the other, are copied as one span (with what
    // lies between them: the receive times and newlines of their lines). Rows without bytes
    // are encoded from their text.
    const spans: { bytes: Uint8Array; from: number; to: number; out: number }[] = [];
    let span: { bytes: Uint8Array; from: number; to: number; out: number } | undefined;
    let size = 0;
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      ingestSeq[i] = r.ingestSeq;
      recvNs[i] = r.recvNs;
      kind[i] = KIND_CODE.get(r.kind)!;
      exchange[i] = this.strings.of(r.exchange, fresh);
      conn[i] = this.strings.of(r.conn, fresh);
      metaAt[i] = r.meta === '' ? -1 : metas.push(r.meta) - 1;
      const len = r.payload.length;
      chars[i] = len;
      const b = bytes[i];
      if (b === undefined) {
        starts[i] = size;
        size += Buffer.byteLength(r.payload, 'utf8');
        ends[i] = size;
        span = undefined;
        continue;
      }
      const from = at[i]!;
      if (span === undefined || span.bytes !== b || from < span.to) {
        span = { bytes: b, from, to: from, out: size };
        spans.push(span);
      }
      size += from + len - span.to;
      span.to = from + len;
      starts[i] = span.out + (from - span.from);
      ends[i] = starts[i]! + len;
    }
    const payload = Buffer.allocUnsafeSlow(size);
    for (const s of spans) payload.set(s.bytes.subarray(s.from, s.to), s.out);
    for (let i = 0; i < n; i++) if (bytes[i] === undefined) payload.write(rows[i]!.payload, starts[i]!, 'utf8');
    const batch: RowBatch = { n, ingestSeq, recvNs, kind, exchange, conn, fresh, metaAt, metas, payload, starts, ends, chars };
    return { batch, transfer: [ingestSeq, recvNs, kind, exchange, conn, metaAt, starts, ends, chars, payload].map((a) => a.buffer as ArrayBuffer) };
  }
}

/** Where RowDecoder hands each row: its fields (ArchiveWriter.writeEncoded's order), payload as UTF-8 and its length as text. */
export interface RowSink {
  writeEncoded(ingestSeq: number, recvNs: bigint, exchange: string, conn: string, kind: LogKind, meta: string, payload: Uint8Array, chars: number): void;
}

/** Hands each row of a batch to `sink`, field by field, with its payload as a view into the batch's bytes. */
export class RowDecoder {
  private readonly strings = new StringTable();

  decode(b: RowBatch, sink: RowSink): void {
    const t = this.strings.add(b.fresh);
    for (let i = 0; i < b.n; i++) {
      const m = b.metaAt[i]!;
      sink.writeEncoded(b.ingestSeq[i]!, b.recvNs[i]!, t[b.exchange[i]!]!, t[b.conn[i]!]!, LOG_KINDS[b.kind[i]!]!, m < 0 ? '' : b.metas[m]!, b.payload.subarray(b.starts[i]!, b.ends[i]!), b.chars[i]!);
    }
  }
}
