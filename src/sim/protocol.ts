/**
 * What the simulator asks of an exchange's protocol server: which WebSocket paths it
 * answers, the connection class that speaks the protocol, its REST routes, and how to tell
 * a trade frame (for the `drop` fault on a re-served recording). Each exchange's
 * `src/exchanges/<x>/sim-server.ts` exports one, its spec carries it (`sim.server`), and the
 * simulator (replayer/simulator/server.ts) asks the registry: it never branches on an
 * exchange's name.
 *
 * The servers stay pure like the rest of src/: the socket, the clock and the timers they use
 * are the simulator's, handed in (connection.ts), and so is everything they read (the
 * market, the recording, the time a reply carries).
 */
import type { ConnContext, RecordedFrame, SimConnection, SimSocket } from './connection.ts';
import type { TradeLog } from './feed.ts';

export interface RestReply { status: number; body: string; headers?: Record<string, string> }

/** A re-served recording as the REST routes read it (the simulator's ArchiveFeed). */
export interface RecordedRest {
  /** The replay's present: the furthest recorded time any playback has reached, ns. */
  readonly nowNs: bigint;
  /** The slice's frames of one exchange, in recorded order. */
  framesOf(exchange: string): readonly RecordedFrame[];
  /** The slice's frames of one exchange received by the replay's present. */
  framesUntilNow(exchange: string): Iterable<RecordedFrame>;
  /** The recording's REST bodies of one exchange (`GET …` URL and body), in recorded order. */
  restsOf(exchange: string): { url: string; body: string; recvNs: bigint }[];
}

/** What a REST route answers from. */
export interface RestContext {
  readonly feed: TradeLog;
  /** The recording, when the simulator re-serves one (the same object as `feed`); undefined for the synthetic market. */
  readonly recording: RecordedRest | undefined;
  /** The time a reply carries, ms: the replay's present when re-serving a recording, else the wall clock's. */
  readonly serverTimeMs: number;
}

/** One exchange's protocol options (`{ pingIntervalMs: 200 }`), by name: each server takes the names it knows, over its defaults. */
export type ProtocolOptions = Readonly<Record<string, number>>;

export interface SimProtocol {
  /** Whether the exchange serves WebSocket upgrades at this URL (else 404). */
  accepts(url: URL): boolean;
  /** A connection speaking the protocol, for an upgrade `accepts` took. */
  connect(ws: SimSocket, ctx: ConnContext, url: URL, feed: TradeLog, options: ProtocolOptions): SimConnection;
  /** The REST reply for a GET below `/<exchange>/`, or undefined (404). */
  rest(pathname: string, query: URLSearchParams, at: RestContext): RestReply | undefined;
  /** Whether a recorded frame is a trade. */
  isTrade(payload: string): boolean;
  /** The stream a recorded frame belongs to (what a client subscribes to), or undefined for control traffic. */
  streamOf(payload: string): string | undefined;
  /** The symbol a stream is about, in the exchange's spelling (`btcusdt@trade` → `btcusdt`). */
  symbolOf(stream: string): string;
  /** A recorded trade frame's price and size exactly as printed, or undefined. */
  tradeText(payload: string): { price: string; size: string } | undefined;
  /** Frames a slice that starts late must open with, from the recorded frames before it (say, order-book snapshots); none for most. */
  carried?(before: Iterable<string>): string[];
}

/** A recorded trade frame's price and size as printed, by the two patterns that capture them. */
export function tradeTexts(payload: string, price: RegExp, size: RegExp): { price: string; size: string } | undefined {
  const p = price.exec(payload)?.[1];
  const s = size.exec(payload)?.[1];
  return p !== undefined && s !== undefined ? { price: p, size: s } : undefined;
}

/** A client's value, for an error message: short, and safe whatever it is (`{"toString":1}` breaks String()). */
export function shown(v: unknown): string {
  return (typeof v === 'string' ? v : JSON.stringify(v) ?? 'undefined').slice(0, 100);
}

/** The first of `names` present in `query` that is not a non-negative integer. */
export function badParam(query: URLSearchParams, names: readonly string[]): string | undefined {
  return names.find((n) => query.has(n) && !/^\d{1,18}$/.test(query.get(n)!));
}
