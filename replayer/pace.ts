/**
 * The pacer: lets event i through once `(recvNs[i] − recvNs[0]) / speed` of wall time has
 * passed since the first. It only delays; it never reorders, drops or alters an event, so
 * the pipeline's output cannot depend on the speed.
 */
export type Speed = number | 'max';

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
  sleep(ms: number): Promise<void>;
}

export const realClock: PaceClock = {
  nowMs: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export async function* pace<T extends { recvNs: bigint }>(events: AsyncIterable<T>, speed: Speed, clock: PaceClock = realClock): AsyncGenerator<T> {
  if (speed === 'max') {
    yield* events;
    return;
  }
  let t0: bigint | undefined;
  let wall0 = 0;
  for await (const ev of events) {
    if (t0 === undefined) {
      t0 = ev.recvNs;
      wall0 = clock.nowMs();
    }
    const dueMs = wall0 + Number(ev.recvNs - t0) / 1e6 / speed;
    const waitMs = dueMs - clock.nowMs();
    // Sleep only when at least 1 ms ahead: timers are no finer, and bursts pass at once.
    if (waitMs >= 1) await clock.sleep(waitMs);
    yield ev;
  }
}
