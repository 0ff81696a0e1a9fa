/**
 * How long a stop waits on a sink (StopWait), on a clock the test moves: while the sink takes
 * what it is sent, up to its bound; once it takes nothing for `stallMs`, no longer; after a
 * second Ctrl-C, not at all. A recording against an unreachable broker took ~19 s to stop.
 */
import { describe, expect, it } from 'vitest';
import { StopWait } from '../../src/storage/stop-wait.ts';

function given(o: { hurry?: AbortSignal } = {}): { wait: StopWait; at: (ms: number) => void; take: (n: number) => void } {
  let now = 1_000_000;
  let taken = 0;
  const start = now;
  const wait = new StopWait(() => taken, { maxMs: 15_000, stallMs: 3_000, now: () => now, ...o });
  return { wait, at: (ms) => void (now = start + ms), take: (n) => void (taken += n) };
}

describe('StopWait', () => {
  it('gives a sink that takes nothing (refused, unroutable, silent) stallMs from the stop, no more', () => {
    const { wait, at } = given();
    expect(wait.left()).toBe(3_000);
    at(2_999);
    expect(wait.left()).toBe(1);
    at(3_000);
    expect(wait.left(), 'not the 15 s a broker that takes what it is sent gets').toBe(0);
    expect(wait.why()).toBe('nothing went out for 3 s of the stop');
  });

  it('waits on while the sink takes what it is sent, stallMs after the last it took, up to maxMs', () => {
    const { wait, at, take } = given();
    for (let ms = 2_000; ms <= 14_000; ms += 2_000) {
      at(ms);
      take(1_000);
      expect(wait.left(), `${ms} ms into the stop, delivering`).toBe(Math.min(3_000, 15_000 - ms));
    }
    at(15_000);
    take(1_000);
    expect(wait.left(), 'however well it goes, the stop ends').toBe(0);
    expect(wait.why()).toBe('the stop waits 15 s at most');
  });

  it('stops waiting at once when hurried (a second Ctrl-C)', () => {
    const hurry = new AbortController();
    const { wait, at, take } = given({ hurry: hurry.signal });
    at(500);
    take(10);
    expect(wait.left()).toBe(3_000);
    hurry.abort();
    expect(wait.left()).toBe(0);
    expect(wait.why()).toBe('a Ctrl-C while stopping ended the wait');
  });

  it('hands back what it waited for, or nothing once it gave up (the real clock: a stall of 0)', async () => {
    const wait = new StopWait(() => 0, { maxMs: 1_000, stallMs: 0 });
    expect(await wait.wait(new Promise(() => {})), 'a delivery that never ends is not waited for').toBeUndefined();
    const hurry = new AbortController();
    const patient = new StopWait(() => 0, { maxMs: 60_000, stallMs: 60_000, hurry: hurry.signal });
    expect(await patient.wait(Promise.resolve(7))).toEqual({ value: 7 });
    await expect(patient.wait(Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    const pending = patient.wait(new Promise(() => {}));
    hurry.abort();
    expect(await pending, 'a second Ctrl-C ends the wait').toBeUndefined();
  });
});
