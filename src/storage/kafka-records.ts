/**
 * LogEvents straight from the bytes of a Kafka fetch: the record sets (RecordBatch, magic 2)
 * a Fetch response carries for one partition, decoded one record at a time into the
 * LogEvent its headers and value describe (kafka.ts's toMessages is the other direction).
 *
 * Why not kafkajs's decoding: it makes every record a message object with a string offset
 * and timestamp (through its Long class), a Buffer per key, value and header, and its
 * headers object by spreading it once per header; that, and the garbage, was ~80 % of a
 * replay's CPU (README, "Replay from Kafka"). Here a record costs its LogEvent, its payload
 * string and its receive time's BigInt: the repeating header values (session, exchange,
 * conn, kind) are recognised by their bytes and shared, numbers are read from their digits.
 *
 * Pure: no I/O. Record sets are uncompressed or gzip (the two compressions tapedeck's
 * producers use); tapedeck writes no transactions, so a control batch is refused.
 */
import { gunzipSync } from 'node:zlib';
import { LOG_KINDS, type LogEvent, type LogKind } from '../log/event.ts';
import { TapedeckError } from '../errors.ts';

export class KafkaRecordError extends TapedeckError {}

const COMPRESSION = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
/** Bytes of a RecordBatch before its first record. */
const BATCH_HEAD = 61;

/** Header names, as bytes, by the LogEvent field they carry. */
const HEADER = ['session', 'ingest_seq', 'recv_ns', 'exchange', 'conn', 'kind', 'meta'].map((k) => Buffer.from(k, 'latin1'));
const [SESSION, SEQ, RECV, EXCHANGE, CONN, KIND, META] = [0, 1, 2, 3, 4, 5, 6] as const;

/** Values per header looked at before the hash. */
const RECENT = 8;

interface Known {
  readonly bytes: Buffer;
  readonly text: string;
}

/**
 * Strings of the header values that repeat, found by their bytes (no string is made to look
 * one up): first among the few values the same header had last (a partition interleaves an
 * asset's exchanges and connections), then by a hash of the bytes. Bounded: past `max`
 * distinct values, a new one is decoded each time.
 */
export class ByteStrings {
  private readonly byHash = new Map<number, Known[]>();
  /** By header (its index in HEADER): the RECENT values it had last, newest first. */
  private readonly recent: Known[][] = HEADER.map(() => []);
  private count = 0;

  constructor(private readonly max = 4_096) {}

  /** Distinct values kept. */
  get size(): number {
    return this.count;
  }

  get(buf: Buffer, start: number, end: number, header: number): string {
    const recent = this.recent[header]!;
    for (let i = 0; i < recent.length; i++) if (sameBytes(recent[i]!.bytes, buf, start, end)) return recent[i]!.text;
    let h = 0x811c9dc5 ^ (end - start);
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    let list = this.byHash.get(h);
    let known = list?.find((e) => sameBytes(e.bytes, buf, start, end));
    if (known === undefined) {
      known = { bytes: Buffer.from(buf.subarray(start, end)), text: buf.toString('utf8', start, end) };
      if (this.count >= this.max) return known.text;
      this.count++;
      if (list === undefined) this.byHash.set(h, (list = []));
      list.push(known);
    }
    recent.unshift(known);
    if (recent.length > RECENT) recent.pop();
    return known.text;
  }
}

/** A kind's string by its bytes (a header value that is no kind: undefined). */
const KINDS = new Map<string, LogKind>(LOG_KINDS.map((k) => [k, k]));

/** Digits only, at least one. */
function isDigits(buf: Buffer, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) if (buf[i]! < 48 || buf[i]! > 57) return false;
  return true;
}

/** The value of checked digits, as Number() of their text gives it (exact to 2^53). */
function digits(buf: Buffer, start: number, end: number): number {
  if (end - start > 15) return Number(buf.toString('latin1', start, end));
  let n = 0;
  for (let i = start; i < end; i++) n = n * 10 + buf[i]! - 48;
  return n;
}

const TWO32 = 2 ** 32;
const TWO17 = 2 ** 17;
const TWO15 = 2 ** 15;
const I64 = new BigInt64Array(1);
const U32 = new Uint32Array(I64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A decimal receive time (checked digits) as a BigInt, making that BigInt only: no string,
 * and none of the intermediate BigInts a product and a sum of BigInts would make. Up to 19
 * digits (every receive time: 2^63 has 19), the value hi·10^9 + lo is worked out in exact
 * double arithmetic as two 32-bit halves and read back through a BigInt64Array.
 */
export function bigDigits(buf: Buffer, start: number, end: number): bigint {
  const len = end - start;
  if (len <= 15) return BigInt(digits(buf, start, end));
  if (len > 19) return BigInt(buf.toString('latin1', start, end));
  const hi = digits(buf, start, end - 9); // < 10^10 < 2^34
  const lo = digits(buf, end - 9, end); // < 10^9 < 2^30
  // hi = hh·2^17 + hl; each part times 10^9 stays below 2^47, exact in a double.
  const hl = hi % TWO17;
  const p = ((hi - hl) / TWO17) * 1e9; // times 2^17 below
  const q = hl * 1e9 + lo;
  const pLow = p % TWO15;
  const qLow = q % TWO32;
  let low = pLow * TWO17 + qLow;
  let high = (p - pLow) / TWO15 + (q - qLow) / TWO32;
  if (low >= TWO32) {
    low -= TWO32;
    high++;
  }
  if (high >= 2 ** 31) return BigInt(buf.toString('latin1', start, end)); // past the signed 64-bit range
  U32[LITTLE ? 0 : 1] = low;
  U32[LITTLE ? 1 : 0] = high;
  return I64[0]!;
}

/**
 * One partition's record sets from one fetch, read record by record. `where` names the
 * partition in errors; `strings` is shared by all of a read's cursors.
 */
export class RecordCursor {
  private data: Buffer;
  private pos: number;
  /** The current batch's end, its first offset, and its records left. */
  private batchEnd = 0;
  private baseOffset = 0;
  private left = 0;
  /** The offset of the record `next` returned last. */
  offset = -1;

  constructor(private readonly records: Buffer, private readonly where: string, private readonly strings: ByteStrings) {
    this.data = records;
    this.pos = 0;
  }

  private varint(): number {
    const b = this.data;
    let u = 0;
    let shift = 0;
    for (;;) {
      const byte = b[this.pos++]!;
      u |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
      shift += 7;
      if (shift > 28) throw new KafkaRecordError(`${this.where}: a record's varint is longer than 5 bytes`);
    }
    return (u >>> 1) ^ -(u & 1);
  }

  /** Skips a varlong (a record's timestamp delta, which a LogEvent does not need). */
  private skipVarlong(): void {
    while (this.data[this.pos++]! >= 0x80);
  }

  /** Enters the next complete batch; false at the end of the fetched bytes (a partial batch there is the fetch's cut). */
  private nextBatch(): boolean {
    const r = this.records;
    if (this.data !== r) {
      this.data = r;
      this.pos = this.batchEnd;
    }
    for (;;) {
      const at = this.pos;
      if (at + BATCH_HEAD > r.length) return false;
      const end = at + 12 + r.readInt32BE(at + 8);
      if (end > r.length) return false;
      const magic = r[at + 16]!;
      if (magic !== 2) throw new KafkaRecordError(`${this.where}: records in message format v${magic} (tapedeck reads v2, Kafka ≥ 0.11)`);
      const attributes = r.readInt16BE(at + 21);
      if (attributes & 0x20) throw new KafkaRecordError(`${this.where}: a transaction's control batch at offset ${r.readBigInt64BE(at)} (tapedeck's producers write no transactions)`);
      this.baseOffset = Number(r.readBigInt64BE(at));
      this.left = r.readInt32BE(at + 57);
      this.batchEnd = end;
      const compression = attributes & 7;
      if (compression === 0) {
        this.pos = at + BATCH_HEAD;
      } else if (compression === 1) {
        this.data = gunzipSync(r.subarray(at + BATCH_HEAD, end));
        this.pos = 0;
      } else {
        throw new KafkaRecordError(`${this.where}: records compressed with ${COMPRESSION[compression] ?? `codec ${compression}`} (tapedeck reads uncompressed and gzip record sets)`);
      }
      if (this.left > 0) return true;
      this.data = r;
      this.pos = end;
    }
  }

  /** The next record as a LogEvent (its offset in `offset`), or undefined at the end of the fetch. */
  next(): LogEvent | undefined {
    if (this.left === 0 && !this.nextBatch()) return undefined;
    this.left--;
    const length = this.varint();
    const recordEnd = this.pos + length;
    this.pos++; // attributes
    this.skipVarlong();
    this.offset = this.baseOffset + this.varint();
    const keyLength = this.varint();
    if (keyLength > 0) this.pos += keyLength;
    const valueLength = this.varint();
    const b = this.data;
    let payload = '';
    if (valueLength > 0) {
      payload = b.toString('utf8', this.pos, this.pos + valueLength);
      this.pos += valueLength;
    }
    let session = '';
    let seq: number | undefined;
    let recvAt = -1;
    let recvEnd = -1;
    let exchange = '';
    let conn = '';
    let kind: LogKind | undefined;
    let meta = '';
    let seen = 0;
    for (let n = this.varint(); n > 0; n--) {
      const keyLen = this.varint();
      const keyAt = this.pos;
      this.pos += keyLen;
      const len = this.varint();
      const at = this.pos;
      const end = len > 0 ? at + len : at;
      this.pos = end;
      const field = headerField(b, keyAt, keyLen);
      if (field < 0) continue;
      if (seen & (1 << field)) throw this.notLogEvent(`header ${HEADER[field]!.toString()} twice`);
      seen |= 1 << field;
      switch (field) {
        case SESSION: session = this.strings.get(b, at, end, SESSION); break;
        case SEQ: if (isDigits(b, at, end)) seq = digits(b, at, end); break;
        case RECV: if (isDigits(b, at, end)) { recvAt = at; recvEnd = end; } break;
        case EXCHANGE: exchange = this.strings.get(b, at, end, EXCHANGE); break;
        case CONN: conn = this.strings.get(b, at, end, CONN); break;
        case KIND: kind = KINDS.get(this.strings.get(b, at, end, KIND)); break;
        case META: meta = b.toString('utf8', at, end); break;
      }
    }
    if (this.pos !== recordEnd) throw new KafkaRecordError(`${this.where}@${this.offset}: a record's fields do not add up to its length`);
    if (session === '' || seq === undefined || recvAt < 0 || kind === undefined) throw this.notLogEvent('headers session/ingest_seq/recv_ns/kind');
    if (this.left === 0) {
      this.data = this.records;
      this.pos = this.batchEnd;
    }
    return { session, ingestSeq: seq, recvNs: bigDigits(b, recvAt, recvEnd), exchange, conn, kind, payload, meta };
  }

  private notLogEvent(what: string): KafkaRecordError {
    return new KafkaRecordError(`${this.where}@${this.offset}: not a tapedeck LogEvent record (${what})`);
  }
}

/** Which of HEADER the key at buf[at, at + len) is, or -1. */
function headerField(buf: Buffer, at: number, len: number): number {
  for (let f = 0; f < HEADER.length; f++) {
    const k = HEADER[f]!;
    if (sameBytes(k, buf, at, at + len)) return f;
  }
  return -1;
}

/** `a` equals buf[start, end): a loop, as Buffer.compare's range checks cost more than these few bytes. */
function sameBytes(a: Buffer, buf: Buffer, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}
