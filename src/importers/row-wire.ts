/**
 * What crosses to the import's archive writer thread (write-thread.ts): rows as RowBatch,
 * numbers and times in typed arrays, exchange/conn as indexes into a string table sent
 * once per new string, and the payloads already UTF-8, back to back in one buffer, moved,
 * not copied. The thread hands each payload's bytes to ArchiveWriter.writeEncoded, so
 * nothing is encoded twice. Kept apart from write-thread.ts, which finds its worker through
 * `import.meta`: a module that does cannot be in the worker's bundle.
 */
import { LOG_KINDS, type LogEvent } from '../log/event.ts';
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
  readonly meta: string[];
  /** Row i's payload is `payload[ends[i - 1] ?? 0, ends[i])`, UTF-8; `chars[i]` its length as text. */
  readonly payload: Uint8Array;
  readonly ends: Uint32Array;
  readonly chars: Uint32Array;
}

/** Encodes rows as RowBatch, growing the string table the thread mirrors. */
export class RowEncoder {
  private readonly strings = new StringNumbers();

  encode(rows: readonly LogEvent[]): { batch: RowBatch; transfer: ArrayBuffer[] } {
    const n = rows.length;
    const ingestSeq = new Float64Array(n);
    const recvNs = new BigInt64Array(n);
    const kind = new Uint8Array(n);
    const exchange = new Uint32Array(n);
    const conn = new Uint32Array(n);
    const ends = new Uint32Array(n);
    const chars = new Uint32Array(n);
    const meta = new Array<string>(n);
    const fresh: string[] = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += Buffer.byteLength(rows[i]!.payload, 'utf8');
    const payload = Buffer.allocUnsafeSlow(bytes);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      ingestSeq[i] = r.ingestSeq;
      recvNs[i] = r.recvNs;
      kind[i] = KIND_CODE.get(r.kind)!;
      exchange[i] = this.strings.of(r.exchange, fresh);
      conn[i] = this.strings.of(r.conn, fresh);
      meta[i] = r.meta;
      at += payload.write(r.payload, at, 'utf8');
      ends[i] = at;
      chars[i] = r.payload.length;
    }
    const batch: RowBatch = { n, ingestSeq, recvNs, kind, exchange, conn, fresh, meta, payload, ends, chars };
    return { batch, transfer: [ingestSeq, recvNs, kind, exchange, conn, ends, chars, payload].map((a) => a.buffer as ArrayBuffer) };
  }
}

/** Hands each row of a batch to `write`, with its payload as a view into the batch's bytes. */
export class RowDecoder {
  private readonly strings = new StringTable();

  decode(b: RowBatch, write: (row: Omit<LogEvent, 'payload' | 'session'>, payload: Uint8Array, chars: number) => void): void {
    const t = this.strings.add(b.fresh);
    let from = 0;
    for (let i = 0; i < b.n; i++) {
      const row = { ingestSeq: b.ingestSeq[i]!, recvNs: b.recvNs[i]!, exchange: t[b.exchange[i]!]!, conn: t[b.conn[i]!]!, kind: LOG_KINDS[b.kind[i]!]!, meta: b.meta[i]! };
      write(row, b.payload.subarray(from, b.ends[i]!), b.chars[i]!);
      from = b.ends[i]!;
    }
  }
}
