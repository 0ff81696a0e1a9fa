/**
 * The façade's playbacks (archive mode): every connection's, one per act of subscribing,
 * all following one clock that `_control` pauses, resumes, speeds up and seeks. Each pump
 * round sends each connection what its playbacks have come due, moves the replay's present
 * (what REST answers from), and closes a connection whose playbacks have all reached the
 * slice's end, as tardis-machine does, instead of leaving it silent.
 */
import type { ArchiveFeed } from './archive-feed.ts';
import { parseSliceBound } from './archive-feed.ts';
import type { Recording, SimConnection } from '../../src/sim/connection.ts';
import type { ClockCommand } from './hooks.ts';
import { Playback, ReplayClock } from './playback.ts';

/** How the façade closes a connection whose playbacks have all reached the slice's end. */
export const END_OF_RECORDING = { code: 1000, reason: 'end of recording' } as const;

export class Replays implements Recording {
  readonly clock: ReplayClock;
  private readonly playbacks = new Map<SimConnection, Playback[]>();
  /** Whether some playback has reached the slice's end. */
  finished = false;

  constructor(private readonly feed: ArchiveFeed, speed: number, private readonly nowMs: () => number) {
    this.clock = new ReplayClock(speed);
  }

  holds(exchange: string, stream: string): boolean {
    return this.feed.holds(exchange, stream);
  }

  play(c: SimConnection, streams: readonly string[]): void {
    let list = this.playbacks.get(c);
    if (list === undefined) this.playbacks.set(c, (list = []));
    list.push(new Playback(this.feed.framesOf(c.exchange), new Set(streams), this.clock, this.nowMs()));
  }

  nowUs(c: SimConnection): number {
    let ns = this.feed.firstNs;
    for (const p of this.playbacks.get(c) ?? []) if (p.positionNs > ns) ns = p.positionNs;
    return Number(ns / 1000n);
  }

  /** The connection went away. */
  forget(c: SimConnection): void {
    this.playbacks.delete(c);
  }

  /**
   * One pump round: each connection gets what has come due (`send`, which may drop it as a
   * fault); a playback past the round's budget (`until`, performance.now()) goes on next round.
   */
  round(until: number, send: (c: SimConnection, f: Parameters<SimConnection['onRecorded']>[0]) => void): void {
    const now = this.nowMs();
    for (const [c, list] of this.playbacks) {
      for (const p of list) {
        for (const f of p.due(now)) {
          send(c, f);
          if (performance.now() > until) break;
        }
        this.feed.reach(p.positionNs);
        if (p.done) this.finished = true;
      }
      if (list.every((p) => p.done)) {
        this.playbacks.delete(c);
        c.close('close', END_OF_RECORDING.code, END_OF_RECORDING.reason);
      }
    }
  }

  /** Pause, resume, speed and seek act on every playback at once; a seek moves REST's present too. */
  control(cmd: ClockCommand): void {
    if (cmd.action === 'pause') this.clock.paused = true;
    else if (cmd.action === 'resume') this.clock.paused = false;
    else if (cmd.action === 'speed') this.clock.speed = cmd.speed;
    else {
      const ns = this.feed.resolve(parseSliceBound(cmd.at));
      for (const list of this.playbacks.values()) for (const p of list) p.seek(ns);
      this.feed.rewind(ns);
    }
  }
}
