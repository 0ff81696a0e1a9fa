/**
 * A replay's stream of LogEvents and what the exchange adapters made of them, as columns:
 * each event's own fields (its payload only where no adapter reads it: the recorder's notes,
 * not the exchanges' frames and bodies), and for each event the engine handed an adapter,
 * the market events it returned. Packed into byte chunks and read back into LogEvents and
 * market events equal field for field, key order included, to the ones packed. The replay's
 * decoded-event cache (replayer/decode-cache.ts) keeps a replay in these chunks, so that the
 * next replay of the same archive folds without reading the archive or decoding (issue 9).
 *
 * Pure: bytes in, events out. Strings that repeat (sessions, exchanges, connections, URLs,
 * symbols) cross once, as the reader thread's wire does (src/log/wire-strings.ts); the rare
 * long ones (a decode error's payload, a status's detail) cross as they are.
 */
import { LOG_KINDS, type LogEvent, type LogKind } from '../log/event.ts';
import { KIND_CODE, StringNumbers, StringTable } from '../log/wire-strings.ts';
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
/** An event's count of market events when the engine handed it to no adapter. */
const NOT_DECODED = 0xffffffff;
/** The kinds whose payload is the exchange's (an adapter's input): not kept. */
const ADAPTERS_INPUT: ReadonlySet<LogKind> = new Set(['frame', 'rest', 'sent']);

const MIN_ID = -(2n ** 63n);
const MAX_ID = 2n ** 63n - 1n;

/** Why a replay cannot be packed: the adapters made something these columns do not hold. */
export class NotPackable extends Error {}

/** Collects a replay's events, and what the adapters made of them, and packs them into chunks. */
export class DecodedPacker {
  private readonly strings = new StringNumbers();
  private fresh: string[] = [];
  private text: string[] = [];
  private current: LogEvent | undefined;
  private n = 0;
  private events = 0;
  private evCap = 0;
  private mCap = 0;
  // Per LogEvent.
  private recvNs = new BigInt64Array(0);
  private seq = new Float64Array(0);
  private session = new Uint32Array(0);
  private exchange = new Uint32Array(0);
  private conn = new Uint32Array(0);
  private meta = new Uint32Array(0);
  private kind = new Uint8Array(0);
  private count = new Uint32Array(0);
  // Per market event.
  private type = new Uint8Array(0);
  private ex = new Uint32Array(0);
  private sym = new Uint32Array(0);
  private nums = new Float64Array(0);
  private ids = new BigInt64Array(0);

  /** LogEvents collected since the last `pack`. */
  get size(): number {
    return this.n;
  }

  /** The replay's next LogEvent. */
  event(ev: LogEvent): void {
    if (this.n === this.evCap) this.growEvents();
    const i = this.n++;
    this.current = ev;
    this.recvNs[i] = ev.recvNs;
    this.seq[i] = ev.ingestSeq;
    this.session[i] = this.strings.of(ev.session, this.fresh);
    this.exchange[i] = this.strings.of(ev.exchange, this.fresh);
    this.conn[i] = this.strings.of(ev.conn, this.fresh);
    this.meta[i] = this.strings.of(ev.meta, this.fresh);
    this.kind[i] = KIND_CODE.get(ev.kind)!;
    this.count[i] = NOT_DECODED;
    if (!ADAPTERS_INPUT.has(ev.kind)) this.text.push(ev.payload);
  }

  /** What the adapter made of the event given last. Throws NotPackable. */
  decoded(ev: LogEvent, out: readonly MarketEvent[]): void {
    if (ev !== this.current || this.count[this.n - 1] !== NOT_DECODED) throw new NotPackable(`an adapter's events for ${ev.session}:${ev.ingestSeq}, not the event given last`);
    for (const m of out) {
      if (m.recvNs !== ev.recvNs || m.at.session !== ev.session || m.at.ingestSeq !== ev.ingestSeq) {
        throw new NotPackable(`a ${m.type} of ${ev.session}:${ev.ingestSeq} carries another event's time or origin`);
      }
    }
    this.count[this.n - 1] = out.length;
    for (const m of out) this.one(m);
  }

  private one(m: MarketEvent): void {
    if (this.events === this.mCap) this.growMarket();
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

  private growEvents(): void {
    const cap = Math.max(1024, this.evCap * 2);
    this.recvNs = grown(this.recvNs, new BigInt64Array(cap));
    this.seq = grown(this.seq, new Float64Array(cap));
    this.session = grown(this.session, new Uint32Array(cap));
    this.exchange = grown(this.exchange, new Uint32Array(cap));
    this.conn = grown(this.conn, new Uint32Array(cap));
    this.meta = grown(this.meta, new Uint32Array(cap));
    this.kind = grown(this.kind, new Uint8Array(cap));
    this.count = grown(this.count, new Uint32Array(cap));
    this.evCap = cap;
  }

  private growMarket(): void {
    const cap = Math.max(1024, this.mCap * 2);
    this.type = grown(this.type, new Uint8Array(cap));
    this.ex = grown(this.ex, new Uint32Array(cap));
    this.sym = grown(this.sym, new Uint32Array(cap));
    this.nums = grown(this.nums, new Float64Array(cap * NUMS));
    this.ids = grown(this.ids, new BigInt64Array(cap * IDS));
    this.mCap = cap;
  }

  /** The events collected since the last pack, as one chunk (the string table continues across chunks). */
  pack(): Uint8Array {
    const n = this.n;
    const events = this.events;
    const tail = new TextEncoder().encode(JSON.stringify([this.fresh, this.text]));
    const layout = chunkLayout(n, events, tail.length);
    const bytes = new Uint8Array(layout.size);
    const head = new Uint32Array(bytes.buffer, 0, HEAD_WORDS);
    head[0] = n;
    head[1] = events;
    head[2] = tail.length;
    const v = views(bytes, layout);
    // Shaped for the compressor: receive times as their two 32-bit halves, the low ones as
    // differences; ingest sequences as differences; each market event field a column of its own.
    const recv = new Uint32Array(this.recvNs.buffer, 0, 2 * n);
    let lo = 0;
    let seq = 0;
    for (let i = 0; i < n; i++) {
      v.recvLo[i] = (recv[2 * i]! - lo) >>> 0;
      lo = recv[2 * i]!;
      v.recvHi[i] = recv[2 * i + 1]!;
      v.seq[i] = this.seq[i]! - seq;
      seq = this.seq[i]!;
    }
    for (let f = 0; f < NUMS; f++) for (let e = 0; e < events; e++) v.nums[f * events + e] = this.nums[e * NUMS + f]!;
    for (let f = 0; f < IDS; f++) for (let e = 0; e < events; e++) v.ids[f * events + e] = this.ids[e * IDS + f]!;
    v.session.set(this.session.subarray(0, n));
    v.exchange.set(this.exchange.subarray(0, n));
    v.conn.set(this.conn.subarray(0, n));
    v.meta.set(this.meta.subarray(0, n));
    v.count.set(this.count.subarray(0, n));
    v.kind.set(this.kind.subarray(0, n));
    v.ex.set(this.ex.subarray(0, events));
    v.sym.set(this.sym.subarray(0, events));
    v.type.set(this.type.subarray(0, events));
    bytes.set(tail, layout.tail);
    this.fresh = [];
    this.text = [];
    this.n = 0;
    this.events = 0;
    this.current = undefined;
    return bytes;
  }
}

/** `to` holding `from`'s values first. */
function grown<A extends { set(a: A): void }>(from: A, to: A): A {
  to.set(from);
  return to;
}

/** A chunk's head: LogEvents, market events, bytes of the string tail, and one word of padding. */
const HEAD_WORDS = 4;

interface Layout {
  readonly n: number;
  readonly events: number;
  readonly at: readonly number[];
  readonly tail: number;
  readonly size: number;
}

/** Where each column starts: 8-byte columns first, then 4-byte, then bytes, then the JSON tail. */
function chunkLayout(n: number, events: number, tailBytes: number): Layout {
  const sizes = [
    events * IDS * 8, n * 8, events * NUMS * 8, // ids, seq, nums
    n * 4, n * 4, n * 4, n * 4, n * 4, n * 4, n * 4, events * 4, events * 4, // recvLo, recvHi, session, exchange, conn, meta, count, ex, sym
    n, events, // kind, type
  ];
  const at: number[] = [];
  let p = HEAD_WORDS * 4;
  for (const s of sizes) {
    at.push(p);
    p += s;
  }
  return { n, events, at, tail: p, size: p + tailBytes };
}

function views(bytes: Uint8Array, l: Layout) {
  const b = bytes.buffer;
  const o = bytes.byteOffset;
  const u32 = (k: number, length: number): Uint32Array => new Uint32Array(b, o + l.at[k]!, length);
  return {
    /** Field-major: field f of market event e at f × events + e. */
    ids: new BigInt64Array(b, o + l.at[0]!, l.events * IDS),
    /** Ingest sequences as differences from the event before (the first from 0). */
    seq: new Float64Array(b, o + l.at[1]!, l.n),
    nums: new Float64Array(b, o + l.at[2]!, l.events * NUMS),
    /** Receive times: the low halves as differences (mod 2^32) from the event before, the high halves as they are. */
    recvLo: u32(3, l.n),
    recvHi: u32(4, l.n),
    session: u32(5, l.n),
    exchange: u32(6, l.n),
    conn: u32(7, l.n),
    meta: u32(8, l.n),
    /** Market events an adapter made of the event (NOT_DECODED: it reached none). */
    count: u32(9, l.n),
    ex: u32(10, l.events),
    sym: u32(11, l.events),
    kind: new Uint8Array(b, o + l.at[12]!, l.n),
    type: new Uint8Array(b, o + l.at[13]!, l.events),
  };
}

/** A chunk that is not one, or an adapter's events asked for an event they were not packed with. */
export class NotAligned extends Error {}

/** A chunk read back: its LogEvents in order, and what the adapters made of those the engine handed them. */
export interface Unpacked {
  readonly events: LogEvent[];
  /** Per event: its market events, or undefined where it reached no adapter. */
  readonly decoded: (MarketEvent[] | undefined)[];
}

/** Reads chunks back, in the order they were packed. */
export class DecodedUnpacker {
  private readonly strings = new StringTable();

  /** The next chunk, whole. */
  unpack(chunk: Uint8Array): Unpacked {
    const bytes = chunk.byteOffset % 8 === 0 ? chunk : chunk.slice();
    if (bytes.byteLength < HEAD_WORDS * 4) throw new NotAligned('a chunk too short to be one');
    const head = new Uint32Array(bytes.buffer, bytes.byteOffset, HEAD_WORDS);
    const layout = chunkLayout(head[0]!, head[1]!, head[2]!);
    if (layout.size !== bytes.byteLength) throw new NotAligned(`a chunk of ${bytes.byteLength} bytes whose head says ${layout.size}`);
    const v = views(bytes, layout);
    const [fresh, text] = JSON.parse(new TextDecoder().decode(bytes.subarray(layout.tail))) as [string[], string[]];
    const t = this.strings.add(fresh);
    const n = layout.n;
    const recvNs = new BigInt64Array(n);
    const recv = new Uint32Array(recvNs.buffer);
    const events = new Array<LogEvent>(n);
    const decoded = new Array<MarketEvent[] | undefined>(n);
    const read = { text, textAt: 0, event: 0 };
    let lo = 0;
    let seq = 0;
    for (let i = 0; i < n; i++) {
      lo = (lo + v.recvLo[i]!) >>> 0;
      recv[2 * i] = lo;
      recv[2 * i + 1] = v.recvHi[i]!;
      seq += v.seq[i]!;
      const kind = LOG_KINDS[v.kind[i]!]!;
      const ev: LogEvent = {
        session: t[v.session[i]!]!, ingestSeq: seq, recvNs: recvNs[i]!, exchange: t[v.exchange[i]!]!, conn: t[v.conn[i]!]!, kind,
        payload: ADAPTERS_INPUT.has(kind) ? '' : text[read.textAt++]!, meta: t[v.meta[i]!]!,
      };
      events[i] = ev;
      const c = v.count[i]!;
      if (c === NOT_DECODED) continue;
      const at: Origin = { session: ev.session, ingestSeq: ev.ingestSeq };
      const out = new Array<MarketEvent>(c);
      for (let k = 0; k < c; k++) out[k] = one(v, t, read, layout.events, ev.recvNs, at);
      decoded[i] = out;
    }
    if (read.event !== layout.events || read.textAt !== text.length) throw new NotAligned('a chunk whose columns do not add up');
    return { events, decoded };
  }
}

function one(v: ReturnType<typeof views>, t: readonly string[], read: { text: string[]; textAt: number; event: number }, m: number, recvNs: bigint, at: Origin): MarketEvent {
  const e = read.event++;
  const exchange = t[v.ex[e]!]!;
  const symbol = t[v.sym[e]!]!;
  const nums = v.nums;
  const text = read.text;
  // Field f of market event e: f × m + e.
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
      return { type: 'gap', exchange, recvNs, at, symbol, fromId: v.ids[e]!, toId: v.ids[m + e]!, reason: text[read.textAt++]! };
    case GAP_FILLED:
      return { type: 'gap_filled', exchange, recvNs, at, symbol };
    case STATUS: {
      const status = text[read.textAt++] as Status['status'];
      return { type: 'status', status, exchange, recvNs, at, detail: text[read.textAt++]! };
    }
    case DECODE_ERROR: {
      const reason = text[read.textAt++]!;
      return { type: 'decode_error', exchange, recvNs, at, reason, payload: text[read.textAt++]! };
    }
    default:
      throw new NotAligned(`a market event of unknown type ${v.type[e]}`);
  }
}
