/**
 * One supervised WebSocket connection: connect, subscribe, answer pings (ws answers them
 * by itself, echoing the payload), send the exchange's heartbeat if it wants one, reconnect
 * at once when it asks to, watch for silence, reconnect with exponential backoff
 * and jitter within the exchange's connection-attempt limit, and leave a little early
 * before the exchange's own maximum connection age. Everything that happens is reported
 * through `log`, which stamps it: the recorder logs the frame, not its reading of it.
 */
import WebSocket from 'ws';
import type { LogKind } from '../src/log/event.ts';

export interface ConnectionOptions {
  readonly exchange: string;
  readonly url: string;
  readonly subscribe: readonly string[];
  readonly silenceMs: number;
  readonly maxAgeMs: number;
  readonly attempts: { count: number; windowMs: number };
  /** A frame asking to reconnect now (the exchange's spec says which). */
  readonly reconnectNotice?: ((text: string) => boolean) | undefined;
  /** A frame to send every `everyMs` while open (logged like every sent frame). */
  readonly heartbeat?: { readonly everyMs: number; readonly frame: string } | undefined;
  readonly backoff?: { initialMs: number; maxMs: number };
  /** Logs one event on connection `conn`; returns nothing, must not throw. */
  readonly log: (kind: LogKind, conn: string, payload: string, meta: string) => void;
  readonly onReconnect?: () => void;
  readonly onError?: (message: string) => void;
}

/** At stop: how long to wait for the close after the last frame, counted in ticks of STOP_TICK_MS. */
const STOP_QUIET_MS = 2_000;
const STOP_TICK_MS = 100;

/**
 * Frames read from one connection in one turn of the event loop, at most (give or take the
 * rest of the socket chunk that holds the last): then it pauses until the loop's next turn.
 * libuv reads a busy socket up to 32 times (64 KiB each) in one turn, ~10k frames that took
 * a saturated recorder ~300 ms, and the commit timer waited behind them.
 */
const FRAMES_PER_TURN = 256;

export class SupervisedConnection {
  private ws: WebSocket | undefined;
  private conn = '';
  private n = 0;
  private failures = 0;
  private stopped = false;
  private lastHeardMs = 0;
  private openedMs = 0;
  private readonly attemptTimes: number[] = [];
  private watchdog: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly o: ConnectionOptions) {}

  start(): void {
    this.connect();
    this.watchdog = setInterval(() => this.check(), Math.min(1000, this.o.silenceMs / 2));
  }

  /**
   * Closes for good; resolves once the close is logged. Frames the exchange sent before it
   * saw our close are still arriving (a recorder that has fallen behind has seconds of them
   * in its socket): they are logged as they come, so the wait lasts while they flow, and
   * ends STOP_QUIET_MS after the last one if the close never comes. ws bounds the whole wait:
   * 30 s after our close frame it drops the socket (logged as a close 1006). `hurry` (a second
   * Ctrl-C) drops it at once: the frames still on their way are not waited for.
   */
  async stop(hurry?: AbortSignal): Promise<void> {
    this.stopped = true;
    clearInterval(this.watchdog);
    clearTimeout(this.retry);
    const ws = this.ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      // Quiet is counted in turns of the event loop, not read off the clock: after a long
      // commit the timer runs before the frames that waited behind it are read.
      let heard = this.lastHeardMs;
      let quiet = 0;
      const give = setInterval(() => {
        quiet = this.lastHeardMs === heard ? quiet + 1 : 0;
        heard = this.lastHeardMs;
        if (quiet * STOP_TICK_MS < STOP_QUIET_MS) return;
        drop();
      }, STOP_TICK_MS);
      const end = (): void => {
        clearInterval(give);
        hurry?.removeEventListener('abort', drop);
        resolve();
      };
      // Dropped, the socket still emits its close (logged, 1006), which ends the wait: the
      // close is logged before the recorder goes on to fold and write the last events.
      const drop = (): void => ws.terminate();
      ws.once('close', end);
      ws.close(1000, 'recorder stopping');
      if (hurry?.aborted) drop();
      else hurry?.addEventListener('abort', drop, { once: true });
    });
  }

  private connect(): void {
    if (this.stopped) return;
    const now = Date.now();
    while (this.attemptTimes.length > 0 && now - this.attemptTimes[0]! > this.o.attempts.windowMs) this.attemptTimes.shift();
    if (this.attemptTimes.length >= this.o.attempts.count) {
      this.retry = setTimeout(() => this.connect(), this.o.attempts.windowMs - (now - this.attemptTimes[0]!) + 1);
      return;
    }
    this.attemptTimes.push(now);
    const conn = `${this.o.exchange}.${this.n++}`;
    this.conn = conn;
    const ws = new WebSocket(this.o.url, { handshakeTimeout: 10_000 });
    this.ws = ws;
    this.lastHeardMs = now;
    let closed = false;
    let beat: NodeJS.Timeout | undefined;
    let turnFrames = 0;
    const nextTurn = (): void => {
      turnFrames = 0;
      if (ws.isPaused) ws.resume();
    };
    const send = (m: string): void => {
      ws.send(m);
      this.o.log('sent', conn, m, '');
    };
    ws.on('open', () => {
      this.openedMs = Date.now();
      this.lastHeardMs = this.openedMs;
      this.o.log('open', conn, '', this.o.url);
      for (const m of this.o.subscribe) send(m);
      const hb = this.o.heartbeat;
      if (hb) beat = setInterval(() => ws.readyState === WebSocket.OPEN && send(hb.frame), hb.everyMs);
    });
    ws.on('message', (data, isBinary) => {
      if (turnFrames++ === 0) setImmediate(nextTurn);
      else if (turnFrames === FRAMES_PER_TURN) ws.pause();
      this.lastHeardMs = Date.now();
      const text = isBinary ? Buffer.from(data as Buffer).toString('base64') : String(data);
      this.o.log('frame', conn, text, isBinary ? 'binary:base64' : '');
      if (this.failures > 0 && Date.now() - this.openedMs > 5_000) this.failures = 0;
      if (this.o.reconnectNotice?.(text)) ws.close(1000, 'the exchange asked to reconnect');
    });
    ws.on('ping', () => {
      this.lastHeardMs = Date.now();
    });
    ws.on('error', (err) => {
      this.o.log('error', conn, err.message, this.o.url);
      this.o.onError?.(err.message);
    });
    ws.on('unexpected-response', (_req, res) => {
      this.o.log('error', conn, `HTTP ${res.statusCode}`, this.o.url);
      this.o.onError?.(`HTTP ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('close', (code, reason) => {
      clearInterval(beat);
      if (closed) return;
      closed = true;
      this.o.log('close', conn, '', `${code} ${String(reason)}`.trim());
      if (this.stopped) return;
      this.failures++;
      const b = this.o.backoff ?? { initialMs: 250, maxMs: 30_000 };
      const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(16, this.failures - 1));
      // Full jitter in [base/2, base): reconnecting clients do not stampede together.
      const delay = base / 2 + Math.random() * (base / 2);
      this.o.onReconnect?.();
      this.retry = setTimeout(() => this.connect(), delay);
    });
  }

  private check(): void {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    if (now - this.lastHeardMs > this.o.silenceMs) {
      this.o.log('error', this.conn, `no frame or ping for ${now - this.lastHeardMs} ms: reconnecting`, this.o.url);
      this.o.onError?.('stalled');
      ws.terminate();
    } else if (now - this.openedMs > this.o.maxAgeMs) {
      ws.close(1000, 'maximum connection age');
    }
  }
}
