/**
 * The pacer: lets event i through once `(recvNs[i] − recvNs[0]) / speed` of wall time has
 * passed since the first, never earlier. It only delays; it never reorders, drops or alters
 * an event, so the pipeline's output cannot depend on the speed. How late each event was
 * let through is measured (p50/p99/max go into the manifest).
 */
import { setImmediate as immediate, setTimeout as delay } from 'node:timers/promises';

export type Speed = number | 'max';

/**
 * The factors a paced replay or re-served recording takes. Below 0.01x a second of the
 * recording takes more than 100 s to play (0.0000001x turned a minute into 19 years: a typo
 * that never ends, not a pace; the façade's `pause` is the way to hold a playback still).
 * Above 10,000x a recorded millisecond is played in 0.1 µs, below what any timer or
 * socket paces: `max` says what such a factor means, and is not refused where it applies.
 * One bound for every way a pace is set: `replay --speed`, `simulate --speed` and the
 * simulator's `POST /_control {"action":"speed"}`.
 */
export const SPEED_RANGE = { min: 0.01, max: 10_000 } as const;

/** Whether `speed` is a factor within SPEED_RANGE (NaN and infinities are not). */
export function inSpeedRange(speed: number): boolean {
  return speed >= SPEED_RANGE.min && speed <= SPEED_RANGE.max;
}

/** `1x`, `50x`, `0.5x`, `max`, or a bare number → a speed; throws one line otherwise. */
export function parseSpeed(text: string): Speed {
  const t = text.trim().toLowerCase();
  if (t === 'max') return 'max';
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(t);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new Error(`bad --speed ${JSON.stringify(text)} (use 1x, 50x, 0.5x or max)`);
  return n;
}

export interface PaceClock {
  nowMs(): number;
  /** Returns no earlier than `ms` from now. */
  sleep(ms: number): Promise<void>;
}

/** Timers fire up to a few ms late: the last stretch of a wait is not left to one. */
const TIMER_SLACK_MS = 2;
const parked = new Int32Array(new SharedArrayBuffer(4));
/** The longest the thread blocks at once in that stretch, between turns of the event loop. */
const PARK_MS = 0.25;

/**
 * Real time. A wait sleeps on a timer until its last TIMER_SLACK_MS, then alternates one
 * turn of the event loop (reading ahead, sockets) with blocking the thread for at most
 * PARK_MS (Atomics.wait: the kernel's high-resolution timeout, no CPU spent) until the time
 * has come. Turning the event loop alone through that stretch (setImmediate after
 * setImmediate) kept a core busy for the whole of a paced replay, since at 50x most waits
 * are shorter than the slack: BTCUSDT at 50x took 10.5–13.8 s of CPU in 13 s, against
 * 1.9–2.5 s this way (the CLI, alternating, 2026-11-22, a loaded machine; lateness there
 * was the load's, in both).
 */
export const realClock: PaceClock = {
  nowMs: () => performance.now(),
  sleep: async (ms) => {
    const until = performance.now() + ms;
    if (ms > TIMER_SLACK_MS) await delay(ms - TIMER_SLACK_MS);
    for (let left = until - performance.now(); left > 0; left = until - performance.now()) {
      // One turn of the event loop (reading ahead goes on), then a short block.
      await immediate();
      left = until - performance.now();
      if (left > 0) Atomics.wait(parked, 0, 0, Math.min(left, PARK_MS));
    }
  },
};

/** Pacing lateness (release time − due time), in 10 µs buckets up to 10 s. */
export class Lateness {
  private readonly buckets = new Uint32Array(1_000_001);
  private n = 0;
  private maxMs = 0;

  add(ms: number): void {
    this.n++;
    if (ms > this.maxMs) this.maxMs = ms;
    this.buckets[Math.min(this.buckets.length - 1, Math.floor(ms * 100))]!++;
  }

  /** p50/p99/p99.9/max in ms (bucket upper bounds, so never understated). */
  summary(): { events: number; p50_ms: number; p99_ms: number; p999_ms: number; max_ms: number } {
    const q = (f: number): number => {
      if (this.n === 0) return 0;
      const want = Math.ceil(f * this.n);
      let seen = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        seen += this.buckets[i]!;
        if (seen >= want) return Math.min(this.maxMs, (i + 1) / 100);
      }
      return this.maxMs;
    };
    const r = (x: number): number => Math.round(x * 1000) / 1000;
    return { events: this.n, p50_ms: r(q(0.5)), p99_ms: r(q(0.99)), p999_ms: r(q(0.999)), max_ms: r(this.maxMs) };
  }
}

/** Paces batches of events: yields each batch's longest prefix that is due, waiting in between. */
export async function* paceBatches<T extends { recvNs: bigint }>(
  batches: AsyncIterable<T[]>, speed: Speed, clock: PaceClock = realClock, lateness?: Lateness,
): AsyncGenerator<T[]> {
  if (speed === 'max') {
    yield* batches;
    return;
  }
  let t0: bigint | undefined;
  let wall0 = 0;
  const due = (ev: T): number => wall0 + Number(ev.recvNs - t0!) / 1e6 / speed;
  for await (const batch of batches) {
    let from = 0;
    while (from < batch.length) {
      if (t0 === undefined) {
        t0 = batch[0]!.recvNs;
        wall0 = clock.nowMs();
      }
      const now = clock.nowMs();
      let to = from;
      for (; to < batch.length; to++) {
        const d = due(batch[to]!);
        if (d > now) break;
        lateness?.add(now - d);
      }
      if (to === from) {
        await clock.sleep(due(batch[from]!) - now);
        continue;
      }
      yield from === 0 && to === batch.length ? batch : batch.slice(from, to);
      from = to;
    }
  }
}

/** Paces a stream of single events (see paceBatches). */
export async function* pace<T extends { recvNs: bigint }>(events: AsyncIterable<T>, speed: Speed, clock: PaceClock = realClock, lateness?: Lateness): AsyncGenerator<T> {
  async function* single(): AsyncGenerator<T[]> {
    for await (const ev of events) yield [ev];
  }
  for await (const batch of paceBatches(single(), speed, clock, lateness)) yield* batch;
}

/**
 * Reads up to `depth` batches ahead of the consumer, so that reading and decoding the
 * archive happens while the pacer sleeps, not when the next event falls due.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, depth = 4): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  let chain: Promise<unknown> = Promise.resolve();
  const fill = (): void => {
    while (queue.length < depth) {
      // Each pull starts once the previous one is done (an async iterator is not reentrant).
      const p = chain.then(() => it.next());
      chain = p.catch(() => undefined);
      queue.push(p);
    }
  };
  for (;;) {
    fill();
    const n = await queue.shift()!;
    if (n.done) return;
    yield n.value;
  }
}
