/**
 * LogEvents as Kafka record batches (RecordBatch, magic 2): the bytes of one produce
 * request's share of each partition, written straight from the events, for tapedeck's own
 * producer (kafka-produce.ts). The records are toMessages' (kafka.ts) — the same key, value,
 * headers in the same order, and timestamp — laid out as kafkajs's producer lays them out,
 * so a reader (kafka-records.ts, or any Kafka client) cannot tell the two producers apart.
 *
 * Why not kafkajs's encoder: it builds every record through objects, arrays and a Long per
 * timestamp delta, about 28 µs of CPU per LogEvent (README, "client comparison"). Here an
 * event's key, value and headers are written once into a scratch buffer (once, however many
 * partitions a symbol-less event goes to), the repeating strings (session, exchange, conn,
 * kind, key) from their cached bytes, and copied into each of its partitions' batches.
 *
 * Pure: no I/O. Uncompressed or gzip (the two compressions kafka-records.ts reads).
 */
import { gzipSync } from 'node:zlib';
import { eventSymbol } from '../exchanges/registry.ts';
import type { LogEvent } from '../log/event.ts';
import { partitionsFor, recordKey } from './kafka.ts';

/** Who writes the batch (from InitProducerId), for the broker's de-duplication. */
export interface ProducerIdentity {
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

/** One partition's record batch. */
export interface PartitionBatch {
  readonly partition: number;
  readonly records: number;
  readonly bytes: Buffer;
}

/** Bytes of a RecordBatch before its first record. */
const BATCH_HEAD = 61;
const GZIP = 1;

// CRC-32C (Castagnoli, reflected 0x82f63b78), eight bytes a step (slicing-by-8).
const CRC = ((): Int32Array[] => {
  const t = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[0]![n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k]![n] = (t[k - 1]![n]! >>> 8) ^ t[0]![t[k - 1]![n]! & 0xff]!;
  return t;
})();

/** CRC-32C of buf[start, end), as an unsigned number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c = t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]!
      ^ t3[buf[i + 4]!]! ^ t2[buf[i + 5]!]! ^ t1[buf[i + 6]!]! ^ t0[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = t0[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Bytes of `n` (≥ 0) as an unsigned varint. */
function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Zigzag of a safe integer, as a number (no 32-bit wrap). */
const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

/** Writes unsigned varint `n` at `at`; returns the position after it. */
function putUvarint(b: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    b[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  b[at++] = n;
  return at;
}

/** A string's bytes behind their varint length, as a record's key or a header's key or value has them. */
function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const b = Buffer.alloc(uvarintSize(zigzag(bytes.length)) + bytes.length);
  bytes.copy(b, putUvarint(b, 0, zigzag(bytes.length)));
  return b;
}

const HEADER_KEY = Object.fromEntries(['session', 'ingest_seq', 'recv_ns', 'kind', 'exchange', 'conn', 'meta'].map((k) => [k, lengthPrefixed(k)])) as Record<string, Buffer>;

/** Encodes the records of LogEvents; keeps its scratch buffer and cached strings between requests. */
export class BatchEncoder {
  private scratch = Buffer.alloc(1 << 20);
  private at = 0;
  /** Length-prefixed bytes of the strings that repeat (session, exchange, conn, kind, key). */
  private readonly known = new Map<string, Buffer>();

  private room(n: number): void {
    if (this.at + n <= this.scratch.length) return;
    const bigger = Buffer.alloc(Math.max(this.scratch.length * 2, this.at + n));
    this.scratch.copy(bigger, 0, 0, this.at);
    this.scratch = bigger;
  }

  /** Appends cached length-prefixed `text` (bounded: past 4,096 strings, encoded each time). */
  private putKnown(text: string): void {
    let b = this.known.get(text);
    if (b === undefined) {
      b = lengthPrefixed(text);
      if (this.known.size < 4_096) this.known.set(text, b);
    }
    this.putBytes(b);
  }

  private putBytes(b: Buffer): void {
    this.room(b.length);
    const s = this.scratch;
    if (b.length < 32) for (let i = 0; i < b.length; i++) s[this.at + i] = b[i]!;
    else b.copy(s, this.at);
    this.at += b.length;
  }

  /** Appends `text` behind its varint length (text of unknown bytes: the payload, meta). */
  private putText(text: string): void {
    const n = Buffer.byteLength(text, 'utf8');
    this.room(5 + n);
    this.at = putUvarint(this.scratch, this.at, zigzag(n));
    if (n > 0) this.at += this.scratch.write(text, this.at, n, 'utf8');
  }

  /** Appends ASCII `text` (digits) behind its varint length. */
  private putAscii(text: string): void {
    this.room(5 + text.length);
    this.at = putUvarint(this.scratch, this.at, zigzag(text.length));
    this.at += this.scratch.write(text, this.at, text.length, 'latin1');
  }

  /**
   * One batch per partition that `events` have records in (symbol-less events: every
   * partition), the events' records in their order; partition p's batch starts at
   * sequence `sequences[p]`.
   */
  encode(events: readonly LogEvent[], partitions: number, id: ProducerIdentity, sequences: readonly number[], compression: 'none' | 'gzip' = 'none'): PartitionBatch[] {
    // First each event's key, value and headers (the record's tail, the same in every partition).
    this.at = 0;
    const tails = new Int32Array(events.length + 1);
    const stamps = new Float64Array(events.length);
    const members: number[][] = Array.from({ length: partitions }, () => []);
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      const symbol = eventSymbol(ev);
      for (const p of partitionsFor(ev, partitions, symbol)) members[p]!.push(i);
      stamps[i] = Number(ev.recvNs / 1_000_000n);
      this.putKnown(recordKey(ev, symbol));
      this.putText(ev.payload);
      this.room(1);
      this.scratch[this.at++] = 2 * (4 + (ev.exchange !== '' ? 1 : 0) + (ev.conn !== '' ? 1 : 0) + (ev.meta !== '' ? 1 : 0));
      this.putBytes(HEADER_KEY.session!);
      this.putKnown(ev.session);
      this.putBytes(HEADER_KEY.ingest_seq!);
      this.putAscii(String(ev.ingestSeq));
      this.putBytes(HEADER_KEY.recv_ns!);
      this.putAscii(String(ev.recvNs));
      this.putBytes(HEADER_KEY.kind!);
      this.putKnown(ev.kind);
      if (ev.exchange !== '') {
        this.putBytes(HEADER_KEY.exchange!);
        this.putKnown(ev.exchange);
      }
      if (ev.conn !== '') {
        this.putBytes(HEADER_KEY.conn!);
        this.putKnown(ev.conn);
      }
      if (ev.meta !== '') {
        this.putBytes(HEADER_KEY.meta!);
        this.putText(ev.meta);
      }
      tails[i + 1] = this.at;
    }
    const out: PartitionBatch[] = [];
    for (let p = 0; p < partitions; p++) {
      const mine = members[p]!;
      if (mine.length > 0) out.push({ partition: p, records: mine.length, bytes: this.batch(mine, tails, stamps, id, sequences[p] ?? 0, compression) });
    }
    return out;
  }

  /** The record batch of the events `mine` (indexes into the tails). */
  private batch(mine: readonly number[], tails: Int32Array, stamps: Float64Array, id: ProducerIdentity, sequence: number, compression: 'none' | 'gzip'): Buffer {
    let first = Infinity;
    let max = -Infinity;
    for (const i of mine) {
      if (stamps[i]! < first) first = stamps[i]!;
      if (stamps[i]! > max) max = stamps[i]!;
    }
    let size = 0;
    for (let k = 0; k < mine.length; k++) {
      const i = mine[k]!;
      const length = 1 + uvarintSize(zigzag(stamps[i]! - first)) + uvarintSize(zigzag(k)) + tails[i + 1]! - tails[i]!;
      size += uvarintSize(zigzag(length)) + length;
    }
    const records = Buffer.allocUnsafe(size);
    let at = 0;
    const s = this.scratch;
    for (let k = 0; k < mine.length; k++) {
      const i = mine[k]!;
      const delta = zigzag(stamps[i]! - first);
      const tail = tails[i + 1]! - tails[i]!;
      at = putUvarint(records, at, zigzag(1 + uvarintSize(delta) + uvarintSize(zigzag(k)) + tail));
      records[at++] = 0; // attributes
      at = putUvarint(records, at, delta);
      at = putUvarint(records, at, zigzag(k));
      at += s.copy(records, at, tails[i]!, tails[i + 1]!);
    }
    const body = compression === 'gzip' ? gzipSync(records) : records;
    const b = Buffer.allocUnsafe(BATCH_HEAD + body.length);
    b.writeBigInt64BE(0n, 0); // base offset: the broker assigns it
    b.writeInt32BE(b.length - 12, 8);
    b.writeInt32BE(0, 12); // partition leader epoch, as kafkajs writes it (the broker sets its own)
    b.writeInt8(2, 16); // magic
    b.writeInt16BE(compression === 'gzip' ? GZIP : 0, 21);
    b.writeInt32BE(mine.length - 1, 23);
    b.writeBigInt64BE(BigInt(first), 27);
    b.writeBigInt64BE(BigInt(max), 35);
    b.writeBigInt64BE(id.producerId, 43);
    b.writeInt16BE(id.producerEpoch, 51);
    b.writeInt32BE(sequence, 53);
    b.writeInt32BE(mine.length, 57);
    body.copy(b, BATCH_HEAD);
    b.writeUInt32BE(crc32c(b, 21, b.length), 17);
    return b;
  }
}
