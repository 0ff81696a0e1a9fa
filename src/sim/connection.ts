/**
 * One client connection to the simulator, whatever the protocol: sends, logs, closes. Each
 * exchange's protocol server (src/exchanges/<x>/sim-server.ts) extends it. The simulator
 * (replayer/simulator/server.ts) owns the edges and hands them in: the socket (a `ws`
 * WebSocket, as the `SimSocket` it is used as), the clock and the timers (ConnContext).
 */
import type { SimEvent } from './market.ts';
import { textFrames } from './ws-frames.ts';

/** The client's WebSocket as a connection uses it (what of `ws`'s WebSocket the protocols need). */
export interface SimSocket {
  readonly readyState: number;
  readonly OPEN: number;
  /** Bytes handed to the socket and not yet written. */
  readonly bufferedAmount: number;
  send(data: string): void;
  ping(data: string): void;
  close(code: number, reason: string): void;
  /** Kills the TCP connection without a close frame. */
  terminate(): void;
  on(event: 'message', listener: (data: unknown) => void): unknown;
  on(event: 'close' | 'error' | 'pong', listener: () => void): unknown;
}

/** Timers a connection runs (pings, heartbeats, deadlines), each with its cancel. */
export interface SimTimers {
  every(ms: number, fn: () => void): () => void;
  after(ms: number, fn: () => void): () => void;
}

/** A frame of the recording as the façade serves it: its exact text and its stream. */
export interface RecordedFrame {
  readonly exchange: string;
  readonly payload: string;
  /** Recorded receive time, ns. */
  readonly recvNs: bigint;
  /** The protocol's name for the frame's stream (`btcusdt@trade`, `matches:BTC-USD`), or undefined (control traffic). */
  readonly stream: string | undefined;
}

/** The exchange's fault state a connection reads (the simulator's `Faults`, replayer/simulator/hooks.ts). */
export interface ConnFaults {
  /** Whether the `stall` fault holds the exchange's sends (and pings) at `nowMs`. */
  stalled(nowMs: number): boolean;
}

export interface SentFrame {
  /** Wall time the frame was handed to the socket, ns. */
  readonly tNs: bigint;
  readonly exchange: string;
  readonly conn: number;
  readonly payload: string;
}

/** A re-served recording, as a connection sees it (archive mode). */
export interface Recording {
  /** Whether the slice holds any frame of this stream of the exchange. */
  holds(exchange: string, stream: string): boolean;
  /** Starts a playback of these streams for the connection, from the slice's first frame. */
  play(c: SimConnection, streams: readonly string[]): void;
  /** Recorded time of the connection's present (its furthest playback), µs. */
  nowUs(c: SimConnection): number;
}

export interface ConnContext {
  readonly faults: ConnFaults;
  readonly nowMs: () => number;
  readonly timers: SimTimers;
  /** Every frame sent, when someone keeps or logs them (left out, a send makes no record). */
  readonly onSent?: (f: SentFrame) => void;
  /** Flood mode (replayer/simulator/flood.ts): skip a connection whose unsent bytes pass `backlogBytes`, counting into `tally`. */
  readonly flood?: { readonly backlogBytes: number; readonly tally: FloodTally };
  /** Set when the server re-serves a recording instead of the synthetic market. */
  readonly recording?: Recording;
}

/** One exchange's flood counters (replayer/simulator/flood.ts). */
export interface FloodTally { sent: number; dropped: number; peakBacklogBytes: number }

export abstract class SimConnection {
  private static nextId = 1;
  readonly id = SimConnection.nextId++;
  private readonly cancels: (() => void)[] = [];

  constructor(readonly exchange: string, protected readonly ws: SimSocket, protected readonly ctx: ConnContext) {
    ws.on('close', () => this.dispose());
    // A protocol error (a frame past maxPayload, bad UTF-8) emits 'error' and then closes:
    // without a listener it would be thrown and take the whole simulator down.
    ws.on('error', () => {});
  }

  /** In flood mode, while a batch runs: whether this connection's backlog was over the cap when it began. */
  private skipping = false;

  /**
   * Sends a text frame unless the exchange is stalled; every frame sent is logged. In a
   * flood batch begun over the backlog cap the frame is missed instead, counted as dropped.
   */
  send(payload: string): void {
    if (this.ctx.faults.stalled(this.ctx.nowMs()) || this.ws.readyState !== this.ws.OPEN) return;
    const tally = this.ctx.flood?.tally;
    if (tally !== undefined) {
      if (this.skipping) {
        tally.dropped++;
        return;
      }
      tally.sent++;
    }
    if (this.batchTexts !== undefined) this.batchTexts.push(payload);
    else this.ws.send(payload);
    this.ctx.onSent?.({ tNs: BigInt(Math.round(this.ctx.nowMs() * 1e6)), exchange: this.exchange, conn: this.id, payload });
  }

  /** While a batch runs on a raw socket: the frames it sends, written as one buffer when it ends. */
  private batchTexts: string[] | undefined;

  /**
   * Runs `fn`'s sends as one write to the socket: their frames made into one buffer
   * (ws-frames.ts) and written under `ws` (which keeps no state between frames without
   * compression, and the simulator offers none). In flood mode the backlog is read once,
   * before: a batch is sent whole or missed whole, so the backlog never passes the cap by more
   * than one batch.
   */
  batch(fn: () => void): void {
    // Within a batch `fn` sends through `send` only: a close or ping made through `ws` inside
    // it would go out before the batch's frames. A batch within a batch joins the outer one.
    if (this.batchTexts !== undefined) {
      fn();
      return;
    }
    const flood = this.ctx.flood;
    if (flood !== undefined) {
      const backlog = this.ws.bufferedAmount;
      if (backlog > flood.tally.peakBacklogBytes) flood.tally.peakBacklogBytes = backlog;
      this.skipping = backlog > flood.backlogBytes;
    }
    const socket = rawSocket(this.ws);
    if (socket !== undefined) this.batchTexts = [];
    try {
      fn();
    } finally {
      const texts = this.batchTexts;
      this.batchTexts = undefined;
      this.skipping = false;
      if (texts !== undefined && texts.length > 0 && socket!.writable) socket!.write(textFrames(texts));
    }
  }

  /**
   * A client's message as a JSON object; anything else is answered with the protocol's error
   * (`badJson` for text that is not JSON, `notObject` for other JSON) and gives undefined.
   */
  protected request<T extends object>(text: string, badJson: string, notObject: string): T | undefined {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.send(badJson);
      return undefined;
    }
    if (typeof msg === 'object' && msg !== null && !Array.isArray(msg)) return msg as T;
    this.send(notObject);
    return undefined;
  }

  /** Closes the connection: `close` (a close frame), `terminate` (the TCP socket just dies). */
  close(mode: 'close' | 'terminate', code = 1001, reason = 'going away'): void {
    if (mode === 'terminate') this.ws.terminate();
    else this.ws.close(code, closeReason(reason));
  }

  /** Announces a shutdown the way the exchange does before maintenance, then closes; an exchange with no such notice just closes. */
  shutdown(): void {
    this.close('close');
  }

  /** The time a frame the server makes up carries, µs: the recording's (this connection's present) when re-serving one, else the wall clock's. */
  protected eventTimeUs(): number {
    return this.ctx.recording?.nowUs(this) ?? Math.floor(this.ctx.nowMs() * 1000);
  }

  protected every(ms: number, fn: () => void): void {
    this.cancels.push(this.ctx.timers.every(ms, fn));
  }

  protected after(ms: number, fn: () => void): void {
    this.cancels.push(this.ctx.timers.after(ms, fn));
  }

  protected dispose(): void {
    for (const cancel of this.cancels) cancel();
  }

  /** A market event happened on this connection's exchange; `payload` is its message (FrameEncoder). */
  abstract onMarket(e: SimEvent, payload: string): void;
  /** A recorded frame of a stream this connection plays (archive mode): sent as recorded, if still subscribed. */
  abstract onRecorded(f: RecordedFrame): void;
  /** A malformed frame (truncated JSON) and an unknown message type, for fault tests. */
  abstract malformed(): string;
  abstract unknown(): string;
}

/** The TCP (or TLS) socket under a `ws` WebSocket that frames nothing itself (no permessage-deflate), or undefined. */
function rawSocket(ws: SimSocket): { readonly writable: boolean; write(b: Buffer): boolean } | undefined {
  const inner = ws as unknown as { _socket?: { readonly writable: boolean; write(b: Buffer): boolean }; _extensions?: Record<string, unknown> };
  return inner._extensions?.['permessage-deflate'] === undefined ? inner._socket : undefined;
}

/** A close reason cut to the 123 bytes a close frame has room for (ws throws past that), on a character boundary. */
export function closeReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}
