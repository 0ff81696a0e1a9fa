/**
 * How long a stopping run waits on a sink that still has something to send (the recorder's
 * Kafka delivery, its Cassandra rows): on while the sink takes what is sent, up to `maxMs`
 * in all; but once `stallMs` pass with nothing taken (a broker that refuses, that nothing
 * routes to, or that never answers), not a moment more; and not at all once `hurry` aborts
 * (a second Ctrl-C). What was not sent stays where it waits (the spool, the pending file)
 * for a later run, so giving up loses nothing. A recording of 2 s against an unreachable
 * broker took ~19 s to stop: each retry was given the whole 15 s.
 */
export interface StopWaitOptions {
  /** The longest the stop waits, however well the sink is taking what it is sent. */
  readonly maxMs: number;
  /** The longest it waits without the sink taking anything. */
  readonly stallMs: number;
  readonly hurry?: AbortSignal;
  /** The clock (a test's twin); Date.now by default. */
  readonly now?: () => number;
}

/**
 * How long a recorder's stop waits on a sink that takes nothing (Kafka's delivery, the
 * Cassandra rows): a retry or two of one that blinked (they retry every second), not the
 * 15 s or 10 s they get while they take what they are sent.
 */
export const STALL_MS = 3_000;

const POLL_MS = 100;

export class StopWait {
  private readonly now: () => number;
  private readonly startMs: number;
  private movedMs: number;
  private taken: number;

  /** `progress` counts what the sink has taken so far (events delivered, rows written): its moving is what keeps the stop waiting. */
  constructor(private readonly progress: () => number, private readonly o: StopWaitOptions) {
    this.now = o.now ?? Date.now;
    this.startMs = this.now();
    this.movedMs = this.startMs;
    this.taken = progress();
  }

  /** Milliseconds the stop may still wait; 0 once it gives up. */
  left(): number {
    const now = this.now();
    const taken = this.progress();
    if (taken !== this.taken) {
      this.taken = taken;
      this.movedMs = now;
    }
    if (this.o.hurry?.aborted) return 0;
    return Math.max(0, Math.min(this.startMs + this.o.maxMs, this.movedMs + this.o.stallMs) - now);
  }

  /** Why it gave up (once `left()` is 0), in words for the user. */
  why(): string {
    if (this.o.hurry?.aborted) return 'a Ctrl-C while stopping ended the wait';
    if (this.now() >= this.startMs + this.o.maxMs) return `the stop waits ${this.o.maxMs / 1000} s at most`;
    return `nothing went out for ${this.o.stallMs / 1000} s of the stop`;
  }

  /** `p`'s value once it settles, or undefined when the stop gives up first (`p` goes on unawaited: the caller makes sure it touches nothing after). */
  async wait<T>(p: Promise<T>): Promise<{ value: T } | undefined> {
    let out: { value: T } | { error: unknown } | undefined;
    const settled = p.then((value) => void (out = { value }), (error: unknown) => void (out = { error }));
    while (out === undefined && this.left() > 0) await Promise.race([settled, new Promise((r) => setTimeout(r, Math.min(POLL_MS, this.left())))]);
    if (out === undefined) return undefined;
    if ('error' in out) throw out.error;
    return out;
  }

  /** Sleeps `ms`, or less when the stop gives up sooner. */
  async sleep(ms: number): Promise<void> {
    const until = this.now() + ms;
    while (this.now() < until && this.left() > 0) await new Promise((r) => setTimeout(r, Math.min(POLL_MS, until - this.now(), this.left())));
  }
}
