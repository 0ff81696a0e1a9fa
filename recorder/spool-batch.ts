/**
 * A spool commit's events as one row: two texts, a head of one line per event (its
 * ingest_seq, recv_ns and the lengths of its five strings) and a body of those strings end
 * to end. One row per commit instead of one per event: SQLite's per-row work (binding eight
 * values, a B-tree insert) was a quarter of a flooded recorder's time. Lengths count UTF-16
 * code units, so the body needs no escaping and reads back by slicing; SQLite stores it as
 * UTF-8, which keeps every length (even a lone surrogate becomes U+FFFD, one unit as well).
 * Stored packed: head and body as UTF-8, ZSTD level 1 (the archive's codec), 7.9× smaller on
 * the simulator's frames: the spool holds a minute of a flood (~820 MB of frames at 60k a
 * second) in that much less, for about the CPU that SQLite's writing and checkpoints save
 * (test/bench/spool-bench.ts).
 */
import type { LogEvent, LogKind } from '../src/log/event.ts';
import { ARCHIVE_COMPRESSORS, ARCHIVE_DECOMPRESSORS } from '../src/storage/codecs.ts';

export interface EncodedBatch {
  readonly head: string;
  readonly body: string;
}

/** Encodes rows[from, to), events of one session. */
export function encodeBatch(rows: readonly LogEvent[], from: number, to: number): EncodedBatch {
  let head = '';
  let body = '';
  for (let i = from; i < to; i++) {
    const e = rows[i]!;
    head += `${e.ingestSeq} ${e.recvNs} ${e.exchange.length} ${e.conn.length} ${e.kind.length} ${e.payload.length} ${e.meta.length}\n`;
    body += e.exchange + e.conn + e.kind + e.payload + e.meta;
  }
  return { head, body };
}

/** A head line: ingest_seq, recv_ns and five lengths, in digits. */
const HEAD_LINE = /^(\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$/;

/**
 * The events of a batch of `session`, in the order they were encoded. A head or body that
 * is not what encodeBatch wrote (damaged bytes) throws rather than read as other events.
 */
export function decodeBatch(session: string, head: string, body: string): LogEvent[] {
  const out: LogEvent[] = [];
  let at = 0;
  let line = 0;
  while (line < head.length) {
    const end = head.indexOf('\n', line);
    const f = end < 0 ? null : HEAD_LINE.exec(head.slice(line, end));
    if (f === null) throw new Error(`spool batch of session ${session}: head line ${out.length + 1} is not one encodeBatch writes`);
    line = end + 1;
    const exchange = body.slice(at, (at += Number(f[3])));
    const conn = body.slice(at, (at += Number(f[4])));
    const kind = body.slice(at, (at += Number(f[5]))) as LogKind;
    const payload = body.slice(at, (at += Number(f[6])));
    const meta = body.slice(at, (at += Number(f[7])));
    if (at > body.length) break;
    out.push({ session, ingestSeq: Number(f[1]), recvNs: BigInt(f[2]!), exchange, conn, kind, payload, meta });
  }
  if (at !== body.length) throw new Error(`spool batch of session ${session}: its head accounts for ${at} of its body's ${body.length} characters`);
  return out;
}

/** A batch as stored: its head's length (characters), the UTF-8 length of head + body, and those bytes ZSTD-compressed. */
export interface PackedBatch {
  readonly headChars: number;
  readonly bytes: number;
  readonly data: Uint8Array;
}

const zstd = ARCHIVE_COMPRESSORS.ZSTD!;
const unzstd = ARCHIVE_DECOMPRESSORS.ZSTD!;

export function packBatch({ head, body }: EncodedBatch): PackedBatch {
  // The head is ASCII: its characters are its bytes, and the body starts where it ends.
  const raw = Buffer.from(head + body, 'utf8');
  return { headChars: head.length, bytes: raw.length, data: zstd(raw) };
}

export function unpackBatch(p: PackedBatch): EncodedBatch {
  const raw = unzstd(p.data, p.bytes);
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  return { head: text.slice(0, p.headChars), body: text.slice(p.headChars) };
}
