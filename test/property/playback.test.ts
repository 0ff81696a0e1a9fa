/**
 * The façade's playback is a pacer, never a filter of time: however the pump's rounds fall,
 * a playback serves exactly its streams' frames of the slice, in recorded order, and a
 * slice is the contiguous run of frames between its bounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutSlice } from '../../replayer/simulator/archive-feed.ts';
import type { RecordedFrame } from '../../src/sim/connection.ts';
import { Playback, ReplayClock } from '../../replayer/simulator/playback.ts';

const framesArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 5_000_000 }), fc.constantFrom('a', 'b', 'c', undefined)), { maxLength: 60 })
  .map((xs) => {
    let t = 1_000_000_000n;
    return xs.map(([dt, stream], i): RecordedFrame => ({ exchange: 'x', payload: `f${i}`, recvNs: (t += BigInt(dt)), stream }));
  });

describe('playback', () => {
  it('serves every frame of its streams, in order, whatever the rounds and the speed', () => {
    fc.assert(fc.property(framesArb, fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 40 }), fc.constantFrom(1, 3, 20), (frames, steps, speed) => {
      const clock = new ReplayClock(speed);
      const p = new Playback(frames, new Set(['a', 'c']), clock, 0);
      const got: string[] = [];
      let now = 0;
      for (const s of steps) for (const f of p.due((now += s))) got.push(f.payload);
      for (const f of p.due(now + 1e9)) got.push(f.payload);
      expect(got).toEqual(frames.filter((f) => f.stream === 'a' || f.stream === 'c').map((f) => f.payload));
      expect(p.done).toBe(true);
    }));
  });

  it('serves nothing ahead of its time, and nothing at all while paused', () => {
    fc.assert(fc.property(framesArb, fc.integer({ min: 0, max: 10 }), (frames, ms) => {
      const clock = new ReplayClock(1);
      const p = new Playback(frames, new Set(['a', 'b', 'c']), clock, 0);
      const t0 = frames[0]?.recvNs ?? 0n;
      for (const f of p.due(ms)) expect(f.recvNs - t0 <= BigInt(ms) * 1_000_000n).toBe(true);
      clock.paused = true;
      expect([...p.due(ms + 1e9)]).toEqual([]);
    }));
  });

  it('a slice is the contiguous run of frames from the first at or after its start to the first at or after its end', () => {
    fc.assert(fc.property(framesArb, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (frames, a, b) => {
      // The frames are in receive order here, so the run is those received in [start, end).
      const t0 = frames[0]?.recvNs ?? 0n;
      const startNs = t0 + BigInt(a) * 1_000_000n;
      const endNs = t0 + BigInt(b) * 1_000_000n;
      const out = cutSlice(frames, { start: { afterMs: a }, end: { atNs: endNs } });
      expect(out).toEqual(frames.filter((f) => f.recvNs >= startNs && f.recvNs < endNs));
    }));
  });
});
