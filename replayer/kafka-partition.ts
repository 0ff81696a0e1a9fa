/**
 * One Kafka partition's records on their way into the replay merge: de-duplicated and put
 * in replay order (recv_ns, session, ingest_seq) within a bounded window, so that the
 * partitions can be merged lazily like an archive's files.
 *
 * Why a window: a partition holds each session's events in ingest order (the forwarder
 * sends them so), but two recorders writing one topic interleave by delivery time, not by
 * receive time. Holding back `window` events sorts any interleaving shallower than that;
 * a deeper one is said aloud (never replayed in a different order than the archive's).
 * `window: Infinity` holds the whole partition (the collect-everything reader).
 *
 * Repeats: a resend after an unclear failure repeats records of one session in one
 * partition (the failed produce request's, at most 1,000 events; after a crash, what a
 * pump round sent since the spool's last commit), so a record
 * whose ingest_seq is not above its session's highest so far in this partition is a repeat
 * if it is the very event recorded under that number: compared whole with the event still
 * held, or with the fingerprint (receive time, exchange, payload length) of one handed out
 * among the last HANDED_OUT. Anything else under a number already taken is refused: two
 * recordings given one session id (`record --session` twice, two demos of one seed for
 * other exchanges) writing one topic would otherwise lose one's events without a word, as
 * the archive's reader refuses them too. A repeat deeper than both is a KafkaOrderError:
 * the whole read holds every event, so compares each. (Copies of symbol-less events in
 * other partitions are adjacent after the merge and compared there: SessionOrder.)
 *
 * Retention deletes a topic's oldest records, and can cut through a batch whose resend came
 * later: then a resent copy is the only one left of an event, numbered below the first the
 * partition shows of its session (and received no later). In a partition whose head was
 * deleted (its first offset is above 0) such a record has nothing to be compared with and
 * is taken for what was recorded under its number: it is put in its place (by a whole read,
 * when events after it were handed out already) and counted (`onlyResent`). Before, such a
 * topic was refused as two recordings under one session id; in a partition whose head is
 * whole it still is (nothing of the session's can have been lost before its first record).
 */
import { compareLogOrder, sameLogEvent, type LogEvent } from '../src/log/event.ts';
import { TapedeckError } from '../src/errors.ts';

export class KafkaSourceError extends TapedeckError {}
/** A partition's events are out of replay order deeper than the window: only a whole read can order them. */
export class KafkaOrderError extends KafkaSourceError {}

/** Two different events under one (session, ingest_seq), or a session's numbers stepping back in receive-time order. */
export function numberedTwice(where: string, ev: LogEvent, what: string): KafkaSourceError {
  return new KafkaSourceError(`${where}: session ${ev.session} ${what} (two recordings under one session id?); replay them from separate topics or archive folders`);
}

/** Fingerprints of the events a partition handed out last, in replay order (so searched by halves). */
const HANDED_OUT = 16_384;

class HandedOut {
  private readonly recvNs = new BigInt64Array(HANDED_OUT);
  private readonly seq = new Float64Array(HANDED_OUT);
  private readonly bytes = new Int32Array(HANDED_OUT);
  private readonly session: string[] = new Array<string>(HANDED_OUT).fill('');
  private readonly exchange: string[] = new Array<string>(HANDED_OUT).fill('');
  /** Fingerprints ever put in: the oldest kept is number max(0, n − HANDED_OUT). */
  private n = 0;

  add(events: readonly LogEvent[]): void {
    for (let i = Math.max(0, events.length - HANDED_OUT); i < events.length; i++) {
      const ev = events[i]!;
      const at = this.n++ % HANDED_OUT;
      this.recvNs[at] = ev.recvNs;
      this.seq[at] = ev.ingestSeq;
      this.bytes[at] = ev.payload.length;
      this.session[at] = ev.session;
      this.exchange[at] = ev.exchange;
    }
  }

  /** Whether `ev` is one of them (true), another event under one of their keys (false), or none of their keys (undefined). */
  match(ev: LogEvent): boolean | undefined {
    let lo = Math.max(0, this.n - HANDED_OUT);
    let hi = this.n;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const at = mid % HANDED_OUT;
      const r = this.recvNs[at]!;
      const c = r !== ev.recvNs ? (r < ev.recvNs ? -1 : 1) : this.session[at] !== ev.session ? (this.session[at]! < ev.session ? -1 : 1) : this.seq[at]! - ev.ingestSeq;
      if (c < 0) lo = mid + 1;
      else if (c > 0) hi = mid;
      else return this.bytes[at] === ev.payload.length && this.exchange[at] === ev.exchange;
    }
    return undefined;
  }
}

/** A session in one partition: its highest number so far and that event's receive time; the first it showed, and that one's. */
interface Seen {
  seq: number;
  recvNs: bigint;
  readonly low: number;
  readonly lowRecvNs: bigint;
}

export class PartitionBuffer {
  /** Sorted by compareLogOrder; only events not handed out yet (nothing taken stays referenced). */
  private buf: LogEvent[] = [];
  /** session → its highest ingest_seq in this partition so far and that event's recv_ns; the first it showed, and that one's. */
  private readonly seen = new Map<string, Seen>();
  /** Whether records were deleted from the partition's head (its first record's offset is above 0); undefined before the first. */
  private headDeleted: boolean | undefined;
  /** Nothing before this may still come: the last event handed out (or announced as first). */
  private floor: LogEvent | undefined;
  private readonly handedOut = new HandedOut();
  /** The next offset to read; every record below it has been added. */
  next = 0;
  ended = false;
  records = 0;
  repeats = 0;
  /** Events only a resend of which is left in the log (the first copy deleted by retention). */
  onlyResent = 0;
  /** Most events ever held at once. */
  peak = 0;

  constructor(readonly where: string, readonly window: number, readonly chunk: number) {}

  get size(): number {
    return this.buf.length;
  }

  /** When full, the consumer pauses this partition until `take` has made room. */
  get full(): boolean {
    return this.size >= this.window + this.chunk;
  }

  get sessions(): Iterable<string> {
    return this.seen.keys();
  }

  /** Adds one record (read at `offset`); throws KafkaSourceError when it cannot be put in replay order. */
  add(ev: LogEvent, offset: number): void {
    // tapedeck's producers write no transactions, so offsets run without holes: a jump means
    // records were deleted (retention, compaction) after the end offsets were read.
    if (offset > this.next) throw new KafkaSourceError(`${this.where}: records at offsets ${this.next}–${offset - 1} are gone (deleted by retention or compaction during the read); the replay would miss them`);
    this.headDeleted ??= offset > 0;
    this.records++;
    this.next = offset + 1;
    const s = this.seen.get(ev.session);
    if (s !== undefined) {
      if (ev.ingestSeq <= s.seq) {
        this.repeat(ev, s, offset);
        return;
      }
      if (ev.recvNs < s.recvNs) {
        throw new KafkaSourceError(`${this.where}@${offset}: session ${ev.session}'s receive time goes back at ingest_seq ${ev.ingestSeq} (${ev.recvNs} after ${s.recvNs} at ${s.seq}); its replay order is ingest order, which a partition-by-partition merge cannot restore — replay it from the Parquet archive`);
      }
      s.seq = ev.ingestSeq;
      s.recvNs = ev.recvNs;
    } else {
      this.seen.set(ev.session, { seq: ev.ingestSeq, recvNs: ev.recvNs, low: ev.ingestSeq, lowRecvNs: ev.recvNs });
    }
    this.place(ev, offset);
  }

  /** Puts `ev` in the buffer in replay order; a KafkaOrderError when events it precedes were handed out already. */
  private place(ev: LogEvent, offset: number): void {
    if (this.floor !== undefined && compareLogOrder(ev, this.floor) < 0) {
      throw new KafkaOrderError(`${this.where}@${offset}: event ${ev.session}#${ev.ingestSeq} (recv_ns ${ev.recvNs}) comes more than ${this.window} events after events it precedes in replay order (several recorders, or a late backlog, interleaved in one partition); replay it from the Parquet archive`);
    }
    const n = this.buf.length;
    if (n === 0 || compareLogOrder(this.buf[n - 1]!, ev) < 0) this.buf.push(ev);
    else this.buf.splice(this.lowerBound(ev), 0, ev);
    if (this.size > this.peak) this.peak = this.size;
  }

  /** The first place in the buffer whose event does not sort before `ev`. */
  private lowerBound(ev: LogEvent): number {
    let lo = 0;
    let hi = this.buf.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareLogOrder(this.buf[mid]!, ev) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A record numbered at or below its session's highest here: counted if a resend of the event under that number, else refused. */
  private repeat(ev: LogEvent, s: Seen, offset: number): void {
    const where = `${this.where}@${offset}`;
    const twice = (): KafkaSourceError => numberedTwice(where, ev, `has two different events numbered ${ev.ingestSeq}`);
    // A session's receive times never go back: a resend is never later than the highest number's.
    if (ev.recvNs > s.recvNs) throw twice();
    const held = this.buf[this.lowerBound(ev)];
    let same: boolean | undefined = held !== undefined && compareLogOrder(held, ev) === 0 ? sameLogEvent(held, ev) : undefined;
    // Below the first number the partition showed of the session, whose head was deleted: the first copy went with it (retention).
    const onlyCopy = this.headDeleted === true && ev.ingestSeq < s.low && ev.recvNs <= s.lowRecvNs;
    if (same === undefined && this.floor !== undefined && compareLogOrder(ev, this.floor) <= 0) {
      same = this.handedOut.match(ev);
      if (same === undefined && onlyCopy) throw new KafkaOrderError(`${where}: event ${ev.session}#${ev.ingestSeq} is the only copy left of one the partition's deleted head held (retention), after events it precedes were handed out; replay it from the Parquet archive`);
      if (same === undefined) throw new KafkaOrderError(`${where}: event ${ev.session}#${ev.ingestSeq} repeats one handed out more than ${this.window + HANDED_OUT} events before, too far back to compare; replay it from the Parquet archive`);
    }
    if (same === undefined && onlyCopy) {
      this.onlyResent++;
      this.place(ev, offset);
      return;
    }
    // Neither held nor handed out: this partition never had an event under that number before.
    if (same === undefined) throw numberedTwice(where, ev, `has event ${ev.ingestSeq} after its event ${s.seq} in one partition`);
    if (!same) throw twice();
    this.repeats++;
  }

  /** The first event `take` will hand out, once `ready`; nothing that sorts before it is accepted from now on. */
  first(): LogEvent | undefined {
    const ev = this.buf[0];
    this.floor ??= ev;
    return ev;
  }

  /** Full (so the window is honoured) or at the partition's end. */
  get ready(): boolean {
    return this.ended || this.full;
  }

  /** The events no later record can precede: all but the window, or everything at the end. */
  take(): LogEvent[] | undefined {
    if (!this.ready) return undefined;
    const n = this.ended ? this.size : this.size - this.window;
    if (n <= 0) return undefined;
    // Cut from the front, so that the events handed out are the merge's alone: kept here
    // until a later compaction, they were most of a replay's heap (4 × 86k events).
    const out = this.buf.splice(0, n);
    this.floor = out[n - 1];
    this.handedOut.add(out);
    return out;
  }
}

/**
 * The partitions merged: a session's events come in ingest order (its receive times never go
 * back), each number once. A symbol-less event (a connection's open or close) is in every
 * partition, so its copies arrive side by side: one is kept. Another event under a number
 * already passed, from another partition, is refused as PartitionBuffer refuses it within one.
 */
export class SessionOrder {
  private readonly last = new Map<string, LogEvent>();
  /** Copies dropped so far. */
  copies = 0;

  constructor(private readonly where: string) {}

  /** The batch's events but the copies; throws KafkaSourceError on a number taken twice. */
  keep(batch: LogEvent[]): LogEvent[] {
    let out: LogEvent[] | undefined;
    let session = '';
    let prev: LogEvent | undefined;
    for (let i = 0; i < batch.length; i++) {
      const ev = batch[i]!;
      if (ev.session !== session) {
        if (prev !== undefined) this.last.set(session, prev);
        session = ev.session;
        prev = this.last.get(session);
      }
      if (prev === undefined || ev.ingestSeq > prev.ingestSeq) {
        prev = ev;
        out?.push(ev);
        continue;
      }
      if (ev.ingestSeq < prev.ingestSeq) throw numberedTwice(this.where, ev, `has event ${ev.ingestSeq} after its event ${prev.ingestSeq} in receive-time order`);
      if (!sameLogEvent(ev, prev)) throw numberedTwice(this.where, ev, `has two different events numbered ${ev.ingestSeq}`);
      out ??= batch.slice(0, i);
      this.copies++;
    }
    if (prev !== undefined) this.last.set(session, prev);
    return out ?? batch;
  }
}
