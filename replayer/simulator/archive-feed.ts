/**
 * A recording, re-served: the archive's received frames for the served exchanges, cut to
 * the chosen slice (`--start`/`--end`), each named by its stream so that every subscription
 * gets its own playback (playback.ts). The recording's trades fill the trade log the REST
 * endpoints serve up to the replay's present: the furthest any playback has reached.
 */
import { TapedeckError } from '../../src/errors.ts';
import { makeDecoder } from '../../src/exchanges/registry.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { parseUserTime } from '../../src/log/time.ts';
import { parseDuration } from '../../src/engine/config.ts';
import { planArchive, readArchive } from '../read.ts';
import { TradeLog } from '../../src/sim/feed.ts';
import type { RecordedFrame } from '../../src/sim/connection.ts';
import { firstAtOrAfter } from './playback.ts';
import type { SimTrade } from '../../src/sim/market.ts';
import { marketsOf, type MarketInfo } from '../../src/sim/markets.ts';
import type { SimProtocol } from '../../src/sim/protocol.ts';

/** What the feed asks of an exchange's protocol about a recorded frame. */
export type FrameReader = Pick<SimProtocol, 'streamOf' | 'tradeText' | 'carried'>;

/** A slice bound: a recorded instant, or a time after the recording's first frame. */
export type SliceBound = { readonly atNs: bigint } | { readonly afterMs: number };

/** `30s` (after the recording's first frame) or an ISO-8601 / epoch-ms receive time; throws one line otherwise. */
export function parseSliceBound(text: string): SliceBound {
  if (/^\d+(ms|s|m|h|d)$/.test(text.trim())) return { afterMs: parseDuration(text) };
  return { atNs: parseUserTime(text) };
}

export interface Slice {
  readonly start?: SliceBound;
  readonly end?: SliceBound;
}

/** The frames of `frames` inside the slice: from the first at or after `start`, up to (not including) the first at or after `end`. */
export function cutSlice<F extends { recvNs: bigint }>(frames: readonly F[], slice: Slice): F[] {
  const t0 = frames[0]?.recvNs ?? 0n;
  const at = (b: SliceBound): bigint => ('atNs' in b ? b.atNs : t0 + BigInt(Math.round(b.afterMs * 1e6)));
  const from = slice.start ? firstAtOrAfter(frames, at(slice.start)) : 0;
  const to = slice.end ? firstAtOrAfter(frames, at(slice.end)) : frames.length;
  return frames.slice(from, Math.max(from, to));
}

export class ArchiveFeed extends TradeLog {
  private readonly byExchange = new Map<string, RecordedFrame[]>();
  /** The recording's REST bodies (depth snapshots), with the URL asked. */
  private readonly rests: LogEvent[] = [];
  private readonly streamsOf = new Map<string, Set<string>>();
  /** Every trade of the slice with the receive time of its frame, in recorded order. */
  private readonly pending: { recvNs: bigint; trade: SimTrade }[] = [];
  private released = 0;
  /** The replay's present: the furthest recorded time any playback has reached, ns. */
  private presentNs = -1n;

  /**
   * `silent`: the exchanges asked for whose part of the recording holds no frame (their
   * WebSocket endpoints send nothing).
   */
  private constructor(events: readonly LogEvent[], readerOf: (exchange: string) => FrameReader | undefined, readonly silent: readonly string[]) {
    super();
    const decoders = new Map<string, ReturnType<typeof makeDecoder>>();
    for (const ev of events) {
      if (ev.kind === 'rest') {
        this.rests.push(ev);
        continue;
      }
      const reader = readerOf(ev.exchange);
      const f: RecordedFrame = { exchange: ev.exchange, payload: ev.payload, recvNs: ev.recvNs, stream: reader?.streamOf(ev.payload) };
      let list = this.byExchange.get(f.exchange);
      if (list === undefined) {
        this.byExchange.set(f.exchange, (list = []));
        this.streamsOf.set(f.exchange, new Set());
        decoders.set(f.exchange, makeDecoder(f.exchange));
      }
      list.push(f);
      if (f.stream !== undefined) this.streamsOf.get(f.exchange)!.add(f.stream);
      const trades = (decoders.get(f.exchange)?.decode(ev) ?? []).filter((m) => m.type === 'trade');
      // A frame of one trade carries its decimals as printed; REST serves those, not a rounding.
      const text = trades.length === 1 ? reader?.tradeText(ev.payload) : undefined;
      for (const m of trades) {
        const trade: SimTrade = { kind: 'trade', exchange: m.exchange, symbol: m.symbol, tradeId: Number(m.tradeId), price: m.price, size: m.size, side: m.side, tsUs: m.tsUs };
        this.pending.push({ recvNs: f.recvNs, trade: text ? { ...trade, text } : trade });
      }
    }
    this.reach(this.firstNs);
  }

  /** Reads the archive's frames of `exchanges`, cuts the slice, and names each frame's stream (its exchange's reader). */
  static async load(
    archive: string, exchanges: readonly string[], slice: Slice,
    readerOf: (exchange: string) => FrameReader | undefined,
  ): Promise<ArchiveFeed> {
    const events: LogEvent[] = [];
    for await (const ev of readArchive(await planArchive(archive))) if ((ev.kind === 'frame' || ev.kind === 'rest') && exchanges.includes(ev.exchange)) events.push(ev);
    const sliced = cutSlice(events, slice);
    // A simulator with nothing to serve listened on, silent: clients connected and waited for ever.
    if (sliced.length === 0) {
      const where = slice.start !== undefined || slice.end !== undefined ? ` in the part --start/--end choose (it holds ${events.length} in all)` : '';
      throw new TapedeckError(`${archive} holds no frame of ${exchanges.join(', ')}${where}: nothing to serve`);
    }
    // Asked for, but without a frame in the part served: its clients would wait for ever (a carried snapshot is not a feed).
    const silent = exchanges.filter((x) => !sliced.some((e) => e.exchange === x && e.kind === 'frame'));
    const from = events.indexOf(sliced[0]!);
    // A slice that starts late opens with what a subscriber then needs (its protocol's `carried`: say, order-book snapshots as the book stood).
    const carried = from === 0 ? [] : exchanges.flatMap((x) => (readerOf(x)?.carried?.(events.slice(0, from).filter((e) => e.exchange === x && e.kind === 'frame').map((e) => e.payload)) ?? [])
      .map((payload): LogEvent => ({ session: '', ingestSeq: -1, recvNs: sliced[0]!.recvNs, exchange: x, conn: '', kind: 'frame', payload, meta: '' })));
    return new ArchiveFeed([...carried, ...sliced], readerOf, silent);
  }

  get size(): number {
    let n = 0;
    for (const l of this.byExchange.values()) n += l.length;
    return n;
  }

  /** The slice's frames of one exchange, in recorded order. */
  framesOf(exchange: string): readonly RecordedFrame[] {
    return this.byExchange.get(exchange) ?? [];
  }

  /** The slice's frames of one exchange received by the replay's present. */
  *framesUntilNow(exchange: string): Generator<RecordedFrame> {
    for (const f of this.framesOf(exchange)) {
      if (f.recvNs > this.presentNs) return;
      yield f;
    }
  }

  /** The recording's REST bodies of one exchange (`GET …` URL and body), in recorded order. */
  restsOf(exchange: string): { url: string; body: string; recvNs: bigint }[] {
    return this.rests.filter((r) => r.exchange === exchange).map((r) => ({ url: r.meta, body: r.payload, recvNs: r.recvNs }));
  }

  /** Every market the slice trades in, whether or not the replay has reached its trades. */
  override markets(exchange: string): MarketInfo[] {
    return marketsOf(exchange, this.pending.filter((p) => p.trade.exchange === exchange).map((p) => p.trade));
  }

  /** Every stream the slice holds of an exchange. */
  streams(exchange: string): string[] {
    return [...this.streamsOf.get(exchange) ?? []];
  }

  /** Whether the slice holds any frame of this stream. */
  holds(exchange: string, stream: string): boolean {
    return this.streamsOf.get(exchange)?.has(stream) ?? false;
  }

  /** The recorded receive time of the slice's first frame, ns. */
  get firstNs(): bigint {
    let t: bigint | undefined;
    for (const l of this.byExchange.values()) if (l[0] && (t === undefined || l[0].recvNs < t)) t = l[0].recvNs;
    return t ?? 0n;
  }

  /** The replay's present, ns (the slice's start until a playback moves it). */
  get nowNs(): bigint {
    return this.presentNs;
  }

  /** A bound as a recorded time: an `afterMs` counts from the slice's first frame. */
  resolve(b: SliceBound): bigint {
    return 'atNs' in b ? b.atNs : this.firstNs + BigInt(Math.round(b.afterMs * 1e6));
  }

  /** A seek: the replay's present becomes `ns`, back or forth, and the trade log REST serves is what was received by then. */
  rewind(ns: bigint): void {
    this.trades.clear();
    this.released = 0;
    this.presentNs = -1n;
    this.reach(ns);
  }

  /** A playback reached recorded time `ns`: the trades received by then join the log REST serves. */
  reach(ns: bigint): void {
    if (ns <= this.presentNs) return;
    this.presentNs = ns;
    while (this.released < this.pending.length && this.pending[this.released]!.recvNs <= ns) this.add(this.pending[this.released++]!.trade);
  }
}
