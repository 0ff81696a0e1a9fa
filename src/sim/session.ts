/**
 * A simulated recording session as LogEvents, without sockets: what `record` would have
 * logged had it listened to the simulator. Used by the offline demo, property tests and
 * fixtures. Each connection's receive times only increase (TCP keeps order), ticks come
 * every `tickMs` of local time, and frames named in `dropTradeIds` never arrive (gaps).
 */
import type { LogEvent } from '../log/event.ts';
import type { SimEndpoint } from '../exchanges/spec.ts';
import { simSpec } from '../exchanges/registry.ts';
import { FrameEncoder } from './frames.ts';
import { DEFAULT_ASSETS, simSymbols, simulateMarket, type SimOptions } from './market.ts';
import { Rng } from './random.ts';

export interface SimSessionOptions extends SimOptions {
  readonly session: string;
  readonly tickMs?: number;
  /** Mean network latency per exchange, ms (local clock − exchange clock included). */
  readonly latencyMs?: Readonly<Record<string, number>>;
  readonly dropTradeIds?: ReadonlySet<number>;
  /** Frames to slip in at `atMs` after the start (malformed or unknown messages, for fault drills). */
  readonly extraFrames?: readonly { atMs: number; exchange: string; payload: string }[];
}

/** A LogEvent before it has its place in the session. */
type Raw = Omit<LogEvent, 'session' | 'ingestSeq'>;

/** Where a recorder connects to `exchange`, what it sends, and the ack it gets. */
export function simEndpoints(exchange: string, symbols: readonly string[]): SimEndpoint {
  return simSpec(exchange).endpoint(symbols);
}

/**
 * The session as one array (tests and small fixtures). For long sessions use
 * `streamSession`, which yields the same events in the same order in bounded memory.
 */
export function simulateSession(o: SimSessionOptions): LogEvent[] {
  return [...streamSession(o)];
}

/** A LogEvent-to-be and its sort key: receive time, then source rank, then order within the source. */
interface Keyed {
  readonly raw: Raw;
  readonly rank: number;
  readonly idx: number;
}

const before = (a: Keyed, b: Keyed): boolean =>
  a.raw.recvNs !== b.raw.recvNs ? a.raw.recvNs < b.raw.recvNs : a.rank !== b.rank ? a.rank < b.rank : a.idx < b.idx;

/**
 * Yields the session's LogEvents in receive-time order, as they are generated. The order is
 * exactly that of a stable sort of (connection set-up, market frames in generation order,
 * extra frames, ticks) by receive time: a k-way merge of those sources, in which each
 * exchange's frames form a queue whose receive times only increase (TCP keeps order). A
 * frame is emitted only once every exchange whose queue is empty has been generated past
 * its receive time, so memory holds only the frames in flight within network latency.
 */
export function* streamSession(o: SimSessionOptions): Generator<LogEvent> {
  const rng = new Rng(o.seed ^ 0x5eed);
  const tickNs = BigInt(o.tickMs ?? 1000) * 1_000_000n;
  const startNs = BigInt(o.startMs) * 1_000_000n;
  const endNs = BigInt(o.startMs + o.durationMs) * 1_000_000n;
  const assets = o.assets ?? DEFAULT_ASSETS;
  const setup: Raw[] = [];
  const lastRecv = new Map<string, bigint>();
  const queues = new Map<string, Keyed[]>();
  for (const x of o.exchanges) {
    const ep = simEndpoints(x, assets.flatMap((a) => simSymbols(x, a.base)));
    const conn = `${x}.0`;
    setup.push({ recvNs: startNs, exchange: x, conn, kind: 'open', payload: '', meta: ep.url });
    // Subscribes go out at once, one ns apart; their acks come 2 ms later.
    ep.subscribe.forEach((payload, i) => setup.push({ recvNs: startNs + 1n + BigInt(i), exchange: x, conn, kind: 'sent', payload, meta: '' }));
    ep.ack.forEach((payload, i) => setup.push({ recvNs: startNs + 2_000_000n + BigInt(i), exchange: x, conn, kind: 'frame', payload, meta: '' }));
    lastRecv.set(x, startNs + 2_000_000n + BigInt(Math.max(0, ep.ack.length - 1)));
    queues.set(x, []);
  }
  const stableByRecv = (rs: Raw[], rank: number): Keyed[] =>
    rs.map((raw, idx) => ({ raw, rank, idx })).sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  const setupQ = stableByRecv(setup, 0);
  const extraQ = stableByRecv((o.extraFrames ?? []).map((x) => (
    { recvNs: startNs + BigInt(Math.round(x.atMs * 1e6)), exchange: x.exchange, conn: `${x.exchange}.0`, kind: 'frame', payload: x.payload, meta: '' })), 2);
  let nextTick = startNs + tickNs;
  let tickIdx = 0;

  const enc = new FrameEncoder();
  const market = simulateMarket(o);
  let marketDone = false;
  let generated = 0;
  /** Generates the next market frame into its exchange's queue; false when the market has ended. */
  const pull = (): boolean => {
    for (;;) {
      const it = market.next();
      if (it.done) return false;
      const e = it.value;
      const payload = enc.logged(e, enc.encode(e));
      if (e.kind === 'trade' && o.dropTradeIds?.has(e.tradeId)) continue;
      const latUs = Math.max(50, ((o.latencyMs?.[e.exchange] ?? 20) + 5 * rng.normal()) * 1000);
      let recv = BigInt(e.tsUs) * 1000n + BigInt(Math.round(latUs * 1000));
      const prev = lastRecv.get(e.exchange)!;
      if (recv <= prev) recv = prev + 1000n;
      lastRecv.set(e.exchange, recv);
      queues.get(e.exchange)!.push({ raw: { recvNs: recv, exchange: e.exchange, conn: `${e.exchange}.0`, kind: 'frame', payload, meta: '' }, rank: 1, idx: generated++ });
      return true;
    }
  };
  let seq = 0;
  let si = 0;
  let xi = 0;
  for (;;) {
    let best: Keyed | undefined;
    let from: Keyed[] | undefined;
    const consider = (k: Keyed | undefined, q?: Keyed[]): void => {
      if (k !== undefined && (best === undefined || before(k, best))) {
        best = k;
        from = q;
      }
    };
    consider(setupQ[si]);
    for (const q of queues.values()) consider(q[0], q);
    consider(extraQ[xi]);
    if (nextTick <= endNs) consider({ raw: { recvNs: nextTick, exchange: '', conn: '', kind: 'tick', payload: '', meta: '' }, rank: 3, idx: tickIdx });
    // A frame not yet generated could still come first: generate until every exchange with
    // an empty queue is past the candidate's receive time (its next frame comes later).
    if (!marketDone) {
      let behind = false;
      for (const [x, q] of queues) if (q.length === 0 && (best === undefined || lastRecv.get(x)! < best.raw.recvNs)) behind = true;
      if (behind) {
        if (!pull()) marketDone = true;
        continue;
      }
    }
    if (best === undefined) return;
    if (from !== undefined) from.shift();
    else if (best.rank === 0) si++;
    else if (best.rank === 2) xi++;
    else {
      nextTick += tickNs;
      tickIdx++;
    }
    yield { session: o.session, ingestSeq: seq++, ...best.raw };
  }
}
