/**
 * Decoded market events as columns: what the adapters made of a run of LogEvents, one
 * entry per decode call (the LogEvent's receive time and ingest sequence, and how many
 * market events it gave), packed into one byte chunk and read back into market events
 * equal field for field, key order included, to the ones packed. The replay's decoded-event
 * cache (replayer/decode-cache.ts) keeps a replay's decoding in these chunks, so that the
 * next replay of the same archive folds without decoding (issue 9).
 *
 * Pure: bytes in, events out. Strings that repeat (exchanges, symbols) cross once, as the
 * reader thread's wire does (src/log/wire-strings.ts); the rare long ones (a decode error's
 * payload, a status's detail) cross as they are.
 */
import type { LogEvent } from '../log/event.ts';
import { StringNumbers, StringTable } from '../log/wire-strings.ts';
import type { MarketEvent, Origin, Status } from './events.ts';

const TRADE = 0;
const QUOTE = 1;
const GAP = 2;
const GAP_FILLED = 3;
const STATUS = 4;
const DECODE_ERROR = 5;

/** Numbers per market event (a trade's price, size, time and side; a quote's four values and time). */
const NUMS = 5;
/** Exact integers per market event (a trade's id; a gap's first and last missing ids). */
const IDS = 2;

/** Why a decoding cannot be packed: the adapters made something these columns do not hold. */
export class NotPackable extends Error {}

const MIN_ID = -(2n ** 63n);
const MAX_ID = 2n ** 63n - 1n;

/** Collects decode calls and packs them into chunks. */
export class DecodedPacker {
  private readonly strings = new StringNumbers();
  private fresh: string[] = [];
  private text: string[] = [];
  private callCap = 0;
  private eventCap = 0;
  private calls_ = 0;
  private events = 0;
  private callRecvNs = new BigInt64Array(0);
  private callSeq = new Float64Array(0);
  private callCount = new Uint32Array(0);
  private type = new Uint8Array(0);
  private ex = new Uint32Array(0);
  private sym = new Uint32Array(0);
  private nums = new Float64Array(0);
  private ids = new BigInt64Array(0);

  /** Calls collected since the last `pack`. */
  get calls(): number {
    return this.calls_;
  }

  /** One decode call: the LogEvent and what its exchange's adapter made of it. Throws NotPackable. */
  add(ev: LogEvent, out: readonly MarketEvent[]): void {
    for (const m of out) {
      if (m.recvNs !== ev.recvNs || m.at.session !== ev.session || m.at.ingestSeq !== ev.ingestSeq) {
        throw new NotPackable(`a ${m.type} of ${ev.session}:${ev.ingestSeq} carries another event's time or origin`);
      }
    }
    if (this.calls_ === this.callCap) this.growCalls();
    const c = this.calls_++;
    this.callRecvNs[c] = ev.recvNs;
    this.callSeq[c] = ev.ingestSeq;
    this.callCount[c] = out.length;
    for (const m of out) this.one(m);
  }

  private one(m: MarketEvent): void {
    if (this.events === this.eventCap) this.growEvents();
    const e = this.events++;
    const x = e * NUMS;
    const n = this.nums;
    this.ex[e] = this.strings.of(m.exchange, this.fresh);
    this.ids[e * IDS] = 0n;
    this.ids[e * IDS + 1] = 0n;
    n.fill(0, x, x + NUMS);
    switch (m.type) {
      case 'trade':
        if (m.side !== 'buy' && m.side !== 'sell') throw new NotPackable(`a trade side ${String(m.side)}`);
        this.head(e, TRADE, m.symbol);
        n[x] = m.price;
        n[x + 1] = m.size;
        n[x + 2] = m.tsUs;
        n[x + 3] = m.side === 'buy' ? 1 : 0;
        this.id(e * IDS, m.tradeId);
        return;
      case 'quote':
        if (Number.isNaN(m.tsUs)) throw new NotPackable('a quote time NaN');
        this.head(e, QUOTE, m.symbol);
        n[x] = m.bid;
        n[x + 1] = m.bidSize;
        n[x + 2] = m.ask;
        n[x + 3] = m.askSize;
        n[x + 4] = m.tsUs ?? Number.NaN;
        return;
      case 'gap':
        this.head(e, GAP, m.symbol);
        this.id(e * IDS, m.fromId);
        this.id(e * IDS + 1, m.toId);
        this.text.push(m.reason);
        return;
      case 'gap_filled':
        this.head(e, GAP_FILLED, m.symbol);
        return;
      case 'status':
        this.head(e, STATUS, '');
        this.text.push(m.status, m.detail);
        return;
      case 'decode_error':
        this.head(e, DECODE_ERROR, '');
        this.text.push(m.reason, m.payload);
        return;
      default:
        throw new NotPackable(`a market event of type ${String((m as { type: unknown }).type)}`);
    }
  }

  private head(e: number, type: number, symbol: string): void {
    this.type[e] = type;
    this.sym[e] = this.strings.of(symbol, this.fresh);
  }

  private id(at: number, id: bigint): void {
    if (typeof id !== 'bigint' || id < MIN_ID || id > MAX_ID) throw new NotPackable(`an id ${String(id)} that is not a 64-bit integer`);
    this.ids[at] = id;
  }

  private growCalls(): void {
    const cap = Math.max(1024, this.callCap * 2);
    this.callRecvNs = grown(this.callRecvNs, new BigInt64Array(cap));
    this.callSeq = grown(this.callSeq, new Float64Array(cap));
    this.callCount = grown(this.callCount, new Uint32Array(cap));
    this.callCap = cap;
  }

  private growEvents(): void {
    const cap = Math.max(1024, this.eventCap * 2);
    this.type = grown(this.type, new Uint8Array(cap));
    this.ex = grown(this.ex, new Uint32Array(cap));
    this.sym = grown(this.sym, new Uint32Array(cap));
    this.nums = grown(this.nums, new Float64Array(cap * NUMS));
    this.ids = grown(this.ids, new BigInt64Array(cap * IDS));
    this.eventCap = cap;
  }

  /** The calls collected since the last pack, as one chunk (the string table continues across chunks). */
  pack(): Uint8Array {
    const calls = this.calls_;
    const events = this.events;
    const tail = new TextEncoder().encode(JSON.stringify([this.fresh, this.text]));
    const layout = chunkLayout(calls, events, tail.length);
    const bytes = new Uint8Array(layout.size);
    const head = new Uint32Array(bytes.buffer, 0, HEAD_WORDS);
    head[0] = calls;
    head[1] = events;
    head[2] = tail.length;
    const v = views(bytes, layout);
    // Shaped for the compressor: receive times as their two 32-bit halves, the low ones as
    // differences; ingest sequences as differences; each event field a column of its own.
    const recv = new Uint32Array(this.callRecvNs.buffer, 0, 2 * calls);
    let lo = 0;
    let seq = 0;
    for (let i = 0; i < calls; i++) {
      v.recvLo[i] = (recv[2 * i]! - lo) >>> 0;
      lo = recv[2 * i]!;
      v.recvHi[i] = recv[2 * i + 1]!;
      v.callSeq[i] = this.callSeq[i]! - seq;
      seq = this.callSeq[i]!;
    }
    for (let f = 0; f < NUMS; f++) for (let e = 0; e < events; e++) v.nums[f * events + e] = this.nums[e * NUMS + f]!;
    for (let f = 0; f < IDS; f++) for (let e = 0; e < events; e++) v.ids[f * events + e] = this.ids[e * IDS + f]!;
    v.callCount.set(this.callCount.subarray(0, calls));
    v.ex.set(this.ex.subarray(0, events));
    v.sym.set(this.sym.subarray(0, events));
    v.type.set(this.type.subarray(0, events));
    bytes.set(tail, layout.tail);
    this.fresh = [];
    this.text = [];
    this.calls_ = 0;
    this.events = 0;
    return bytes;
  }
}

/** `to` holding `from`'s values first. */
function grown<A extends { set(a: A): void }>(from: A, to: A): A {
  to.set(from);
  return to;
}

/** A chunk's head: calls, market events, bytes of the string tail, and one word of padding. */
const HEAD_WORDS = 4;

interface Layout {
  readonly calls: number;
  readonly events: number;
  readonly at: readonly number[];
  readonly tail: number;
  readonly size: number;
}

/** Where each column starts: 8-byte columns first, then 4-byte, then bytes, then the JSON tail. */
function chunkLayout(calls: number, events: number, tailBytes: number): Layout {
  const sizes = [events * IDS * 8, calls * 8, events * NUMS * 8, calls * 4, calls * 4, calls * 4, events * 4, events * 4, events];
  const at: number[] = [];
  let p = HEAD_WORDS * 4;
  for (const s of sizes) {
    at.push(p);
    p += s;
  }
  return { calls, events, at, tail: p, size: p + tailBytes };
}

function views(bytes: Uint8Array, l: Layout) {
  const b = bytes.buffer;
  const o = bytes.byteOffset;
  return {
    /** Field-major: field f of event e at f × events + e. */
    ids: new BigInt64Array(b, o + l.at[0]!, l.events * IDS),
    /** Differences from the call before (the first from 0). */
    callSeq: new Float64Array(b, o + l.at[1]!, l.calls),
    nums: new Float64Array(b, o + l.at[2]!, l.events * NUMS),
    /** The low halves as differences (mod 2^32) from the call before, the high halves as they are. */
    recvLo: new Uint32Array(b, o + l.at[3]!, l.calls),
    recvHi: new Uint32Array(b, o + l.at[4]!, l.calls),
    callCount: new Uint32Array(b, o + l.at[5]!, l.calls),
    ex: new Uint32Array(b, o + l.at[6]!, l.events),
    sym: new Uint32Array(b, o + l.at[7]!, l.events),
    type: new Uint8Array(b, o + l.at[8]!, l.events),
  };
}

/** A decode call the chunk does not hold where the replay asks for it: the cache is not this archive's. */
export class NotAligned extends Error {}

/** Reads chunks back, call by call, in the order they were packed. */
export class DecodedUnpacker {
  private readonly strings = new StringTable();
  private table: readonly string[] = [];
  private v: ReturnType<typeof views> | undefined;
  /** The chunk's receive times and ingest sequences, rebuilt from their differences. */
  private recvNs = new BigInt64Array(0);
  private seq = new Float64Array(0);
  private text: string[] = [];
  private calls = 0;
  private events = 0;
  private call = 0;
  private event = 0;
  private textAt = 0;

  /** Calls left in the chunk being read. */
  get left(): number {
    return this.calls - this.call;
  }

  /** The next chunk (the one before must be read out). `bytes` must stay as it is while read (copied only when not 8-byte aligned). */
  load(chunk: Uint8Array): void {
    const bytes = chunk.byteOffset % 8 === 0 ? chunk : chunk.slice();
    if (bytes.byteLength < HEAD_WORDS * 4) throw new NotAligned('a chunk too short to be one');
    const head = new Uint32Array(bytes.buffer, bytes.byteOffset, HEAD_WORDS);
    const layout = chunkLayout(head[0]!, head[1]!, head[2]!);
    if (layout.size !== bytes.byteLength) throw new NotAligned(`a chunk of ${bytes.byteLength} bytes whose head says ${layout.size}`);
    const v = (this.v = views(bytes, layout));
    const calls = layout.calls;
    this.recvNs = new BigInt64Array(calls);
    this.seq = new Float64Array(calls);
    const recv = new Uint32Array(this.recvNs.buffer);
    let lo = 0;
    let seq = 0;
    for (let i = 0; i < calls; i++) {
      lo = (lo + v.recvLo[i]!) >>> 0;
      recv[2 * i] = lo;
      recv[2 * i + 1] = v.recvHi[i]!;
      seq += v.callSeq[i]!;
      this.seq[i] = seq;
    }
    const [fresh, text] = JSON.parse(new TextDecoder().decode(bytes.subarray(layout.tail))) as [string[], string[]];
    this.table = this.strings.add(fresh);
    this.text = text;
    this.calls = calls;
    this.events = layout.events;
    this.call = 0;
    this.event = 0;
    this.textAt = 0;
  }

  /** What the adapter made of `ev` when the chunk was packed. */
  next(ev: LogEvent): MarketEvent[] {
    const v = this.v;
    const i = this.call;
    if (v === undefined || i >= this.calls) throw new NotAligned('more decode calls than were packed');
    if (this.recvNs[i] !== ev.recvNs || this.seq[i] !== ev.ingestSeq) {
      throw new NotAligned(`decode call ${i} was ${this.seq[i]} at ${this.recvNs[i]} ns, the replay's is ${ev.session}:${ev.ingestSeq} at ${ev.recvNs} ns`);
    }
    this.call++;
    const n = v.callCount[i]!;
    if (n === 0) return [];
    const at: Origin = { session: ev.session, ingestSeq: ev.ingestSeq };
    const out = new Array<MarketEvent>(n);
    for (let k = 0; k < n; k++) out[k] = this.one(ev.recvNs, at);
    return out;
  }

  private one(recvNs: bigint, at: Origin): MarketEvent {
    const v = this.v!;
    const e = this.event++;
    const t = this.table;
    const exchange = t[v.ex[e]!]!;
    const symbol = t[v.sym[e]!]!;
    // Field f of event e: f × events + e.
    const m = this.events;
    const nums = v.nums;
    switch (v.type[e]) {
      case TRADE:
        return {
          type: 'trade', exchange, recvNs, at, symbol, tradeId: v.ids[e]!, price: nums[e]!, size: nums[m + e]!,
          side: nums[3 * m + e] === 1 ? 'buy' : 'sell', tsUs: nums[2 * m + e]!,
        };
      case QUOTE: {
        const ts = nums[4 * m + e]!;
        return { type: 'quote', exchange, recvNs, at, symbol, bid: nums[e]!, bidSize: nums[m + e]!, ask: nums[2 * m + e]!, askSize: nums[3 * m + e]!, tsUs: Number.isNaN(ts) ? undefined : ts };
      }
      case GAP:
        return { type: 'gap', exchange, recvNs, at, symbol, fromId: v.ids[e]!, toId: v.ids[m + e]!, reason: this.text[this.textAt++]! };
      case GAP_FILLED:
        return { type: 'gap_filled', exchange, recvNs, at, symbol };
      case STATUS: {
        const status = this.text[this.textAt++] as Status['status'];
        return { type: 'status', status, exchange, recvNs, at, detail: this.text[this.textAt++]! };
      }
      case DECODE_ERROR: {
        const reason = this.text[this.textAt++]!;
        return { type: 'decode_error', exchange, recvNs, at, reason, payload: this.text[this.textAt++]! };
      }
      default:
        throw new NotAligned(`a market event of unknown type ${v.type[e]}`);
    }
  }
}
