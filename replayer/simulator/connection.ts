/** One client connection to the simulator, whatever the protocol: sends, logs, closes. */
import type { WebSocket } from 'ws';
import type { SimEvent } from '../../src/sim/market.ts';
import type { Faults } from './hooks.ts';
import type { RecordedFrame } from './playback.ts';

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
  readonly faults: Faults;
  readonly nowMs: () => number;
  readonly onSent: (f: SentFrame) => void;
  /** Set when the server re-serves a recording instead of the synthetic market. */
  readonly recording?: Recording;
}

export abstract class SimConnection {
  private static nextId = 1;
  readonly id = SimConnection.nextId++;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(readonly exchange: string, protected readonly ws: WebSocket, protected readonly ctx: ConnContext) {
    ws.on('close', () => this.dispose());
    // A protocol error (a frame past maxPayload, bad UTF-8) emits 'error' and then closes:
    // without a listener it would be thrown and take the whole simulator down.
    ws.on('error', () => {});
  }

  /** Sends a text frame unless the exchange is stalled; every frame sent is logged. */
  send(payload: string): void {
    if (this.ctx.faults.stalled(this.ctx.nowMs()) || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(payload);
    this.ctx.onSent({ tNs: BigInt(Math.round(this.ctx.nowMs() * 1e6)), exchange: this.exchange, conn: this.id, payload });
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
    this.timers.push(setInterval(fn, ms));
  }

  protected after(ms: number, fn: () => void): void {
    this.timers.push(setTimeout(fn, ms));
  }

  protected dispose(): void {
    for (const t of this.timers) clearInterval(t);
  }

  /** A market event happened on this connection's exchange; `payload` is its message (FrameEncoder). */
  abstract onMarket(e: SimEvent, payload: string): void;
  /** A recorded frame of a stream this connection plays (archive mode): sent as recorded, if still subscribed. */
  abstract onRecorded(f: RecordedFrame): void;
  /** A malformed frame (truncated JSON) and an unknown message type, for fault tests. */
  abstract malformed(): string;
  abstract unknown(): string;
}

/** A close reason cut to the 123 bytes a close frame has room for (ws throws past that), on a character boundary. */
export function closeReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}
