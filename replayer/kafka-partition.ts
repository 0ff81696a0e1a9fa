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
 * partition, so a record whose ingest_seq is not above its session's highest so far in
 * this partition is a repeat. (Copies of symbol-less events in other partitions are
 * adjacent after the merge and dropped there.)
 */
import { compareLogOrder, type LogEvent } from '../src/log/event.ts';
import { TapedeckError } from '../src/errors.ts';

export class KafkaSourceError extends TapedeckError {}
/** A partition's events are out of replay order deeper than the window: only a whole read can order them. */
export class KafkaOrderError extends KafkaSourceError {}

export class PartitionBuffer {
  /** Sorted by compareLogOrder; only events not handed out yet (nothing taken stays referenced). */
  private buf: LogEvent[] = [];
  /** session → its highest ingest_seq in this partition so far, and that event's recv_ns. */
  private readonly seen = new Map<string, { seq: number; recvNs: bigint }>();
  /** Nothing before this may still come: the last event handed out (or announced as first). */
  private floor: LogEvent | undefined;
  /** The next offset to read; every record below it has been added. */
  next = 0;
  ended = false;
  records = 0;
  repeats = 0;
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
    this.records++;
    this.next = offset + 1;
    const s = this.seen.get(ev.session);
    if (s !== undefined) {
      if (ev.ingestSeq <= s.seq) {
        this.repeats++;
        return;
      }
      if (ev.recvNs < s.recvNs) {
        throw new KafkaSourceError(`${this.where}@${offset}: session ${ev.session}'s receive time goes back at ingest_seq ${ev.ingestSeq} (${ev.recvNs} after ${s.recvNs} at ${s.seq}); its replay order is ingest order, which a partition-by-partition merge cannot restore — replay it from the Parquet archive`);
      }
      s.seq = ev.ingestSeq;
      s.recvNs = ev.recvNs;
    } else {
      this.seen.set(ev.session, { seq: ev.ingestSeq, recvNs: ev.recvNs });
    }
    if (this.floor !== undefined && compareLogOrder(ev, this.floor) < 0) {
      throw new KafkaOrderError(`${this.where}@${offset}: event ${ev.session}#${ev.ingestSeq} (recv_ns ${ev.recvNs}) comes more than ${this.window} events after events it precedes in replay order (several recorders, or a late backlog, interleaved in one partition); replay it from the Parquet archive`);
    }
    const n = this.buf.length;
    if (n === 0 || compareLogOrder(this.buf[n - 1]!, ev) < 0) {
      this.buf.push(ev);
    } else {
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareLogOrder(this.buf[mid]!, ev) < 0) lo = mid + 1;
        else hi = mid;
      }
      this.buf.splice(lo, 0, ev);
    }
    if (this.size > this.peak) this.peak = this.size;
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
    return out;
  }
}
