/**
 * One subscription's replay of a recording (the façade, archive mode). Each act of
 * subscribing (a URL's streams, one subscribe message) gets its own
 * playback of the streams it named, from the first frame of the chosen slice, paced from
 * the moment it subscribed: nothing recorded is lost because nobody was listening yet, and a
 * client that comes late sees the stream from its start, as tardis-machine gives each client
 * its own replay.
 *
 * Time moves by accumulation: each pump round adds (wall time since the last round × the
 * clock's speed) to the playback's recorded time, unless the clock is paused, so a speed
 * change or a pause takes effect from that round on and never jumps.
 */
import type { RecordedFrame } from '../../src/sim/connection.ts';

/** The speed and pause every playback of the server follows (`_control` moves them). */
export class ReplayClock {
  speed: number;
  paused = false;

  constructor(speed: number) {
    this.speed = speed;
  }
}

export class Playback {
  private i: number;
  /** Recorded time reached, ns after the slice's first frame. */
  private elapsedNs = 0;
  private lastMs: number;

  constructor(
    private readonly frames: readonly RecordedFrame[],
    private readonly streams: ReadonlySet<string>,
    private readonly clock: ReplayClock,
    nowMs: number,
  ) {
    this.i = 0;
    this.lastMs = nowMs;
  }

  get done(): boolean {
    return this.i >= this.frames.length;
  }

  /** Recorded receive time of the playback's present, ns. */
  get positionNs(): bigint {
    const t0 = this.frames[0]?.recvNs ?? 0n;
    return t0 + BigInt(Math.floor(this.elapsedNs));
  }

  /** Moves the playback to recorded time `ns` (a seek): the next frame served is the first at or after it. */
  seek(ns: bigint): void {
    const t0 = this.frames[0]?.recvNs ?? 0n;
    this.elapsedNs = Math.max(0, Number(ns - t0));
    this.i = firstAtOrAfter(this.frames, ns);
  }

  /** Every frame of the playback's streams that has come due by wall time `nowMs`, in recorded order. */
  *due(nowMs: number): Generator<RecordedFrame> {
    if (!this.clock.paused) this.elapsedNs += Math.max(0, nowMs - this.lastMs) * this.clock.speed * 1e6;
    this.lastMs = nowMs;
    const until = this.positionNs;
    while (this.i < this.frames.length && this.frames[this.i]!.recvNs <= until) {
      const f = this.frames[this.i++]!;
      if (f.stream !== undefined && this.streams.has(f.stream)) yield f;
    }
  }
}

/** Index of the first frame received at or after `ns`, in the recording's order (a merged recording's receive times may step back). */
export function firstAtOrAfter(frames: readonly { recvNs: bigint }[], ns: bigint): number {
  const i = frames.findIndex((f) => f.recvNs >= ns);
  return i < 0 ? frames.length : i;
}
