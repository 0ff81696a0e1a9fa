/**
 * PartitionBuffer, without a broker: sessions interleaved shallower than the window come
 * out in replay order, each event once; whatever cannot be put in that order (a deeper
 * interleave, a session's clock going back, records gone from the log) is an error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KafkaOrderError, KafkaSourceError, PartitionBuffer, SessionOrder } from '../../replayer/kafka-partition.ts';
import { compareLogOrder, type LogEvent } from '../../src/log/event.ts';

const ev = (session: string, ingestSeq: number, recvNs: bigint, payload = '{}', exchange = 'binance'): LogEvent =>
  ({ session, ingestSeq, recvNs, exchange, conn: 'c', kind: 'frame', payload, meta: '' });

/** Feeds records as a consumer would (stopping when full; the first at offset `start`) and drains as the merge would. */
function run(buf: PartitionBuffer, records: LogEvent[], start = 0): LogEvent[] {
  const out: LogEvent[] = [];
  let i = 0;
  buf.next = start;
  for (;;) {
    while (i < records.length && !buf.full) buf.add(records[i]!, start + i++);
    if (i === records.length) buf.ended = true;
    const chunk = buf.take();
    if (chunk === undefined) return out;
    out.push(...chunk);
  }
}

describe('PartitionBuffer', () => {
  it('puts sessions delivered in rounds back in replay order, drops resends, holds at most window + chunk', () => {
    fc.assert(fc.property(
      fc.array(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 6 }),
      (gapsBySession, round, resendEvery, chunk) => {
        // Each session: strictly increasing ingest_seq, non-decreasing recv_ns.
        const sessions = gapsBySession.map((gaps, s) => {
          let t = 0n;
          return gaps.map((g, i) => ev(`s${s}`, i, (t += BigInt(g))));
        });
        // Delivery as recorders pumping every `round` ns of receive time do: each session's
        // events of the round in turn, and every `resendEvery`-th round part of them again.
        // An event can only be preceded by later ones of its own round: that is the window.
        const records: LogEvent[] = [];
        const next = sessions.map(() => 0);
        let window = 1;
        for (let r = 1; next.some((i, k) => i < sessions[k]!.length); r++) {
          let inRound = 0;
          for (const [k, s] of sessions.entries()) {
            let to = next[k]!;
            while (to < s.length && s[to]!.recvNs < BigInt(r * round)) to++;
            records.push(...s.slice(next[k], to));
            if (r % resendEvery === 0) records.push(...s.slice(next[k], next[k]! + Math.ceil((to - next[k]!) / 2)));
            inRound += to - next[k]!;
            next[k] = to;
          }
          window = Math.max(window, inRound);
        }
        const buf = new PartitionBuffer('t[0]', window, chunk);
        const out = run(buf, records);
        expect(out, 'replay order, each event once').toEqual(sessions.flat().sort(compareLogOrder));
        expect(buf.repeats).toBe(records.length - out.length);
        expect(buf.peak).toBeLessThanOrEqual(window + chunk);
      },
    ));
  });

  it('says so when sessions interleave deeper than the window', () => {
    const a = [0, 1, 2, 3].map((i) => ev('a', i, BigInt(10 + i)));
    const b = [0, 1, 2, 3].map((i) => ev('b', i, BigInt(i)));
    expect(() => run(new PartitionBuffer('t[0]', 2, 1), [...a, ...b])).toThrow(/t\[0\]@\d: event b#\d \(recv_ns \d\) comes more than 2 events after events it precedes/);
    expect(run(new PartitionBuffer('t[0]', 4, 1), [...a, ...b]).map((e) => e.session)).toEqual(['b', 'b', 'b', 'b', 'a', 'a', 'a', 'a']);
  });

  it('refuses a session whose receive time goes back, and records missing from the log', () => {
    expect(() => run(new PartitionBuffer('t[1]', 8, 8), [ev('a', 0, 5n), ev('a', 1, 4n)])).toThrow(KafkaSourceError);
    expect(() => run(new PartitionBuffer('t[1]', 8, 8), [ev('a', 0, 5n), ev('a', 1, 4n)])).toThrow(/session a's receive time goes back at ingest_seq 1/);
    const buf = new PartitionBuffer('t[2]', 8, 8);
    buf.add(ev('a', 0, 1n), 0);
    expect(() => buf.add(ev('a', 1, 2n), 5)).toThrow(/t\[2\]: records at offsets 1–4 are gone/);
  });

  it('refuses two recordings under one session id in one partition, wherever the first one\'s event is', () => {
    // Recorder 1's events, then recorder 2's under the same session id and numbers.
    const first = [0, 1, 2, 3, 4, 5].map((i) => ev('a', i, BigInt(100 + i), `{"n":${i}}`));
    const twice = /t\[0\]@\d+: session a has two different events numbered 2 \(two recordings under one session id\?\)/;
    // Later than the first recording (every number's receive time is later than the highest's).
    expect(() => run(new PartitionBuffer('t[0]', 100, 10), [...first, ev('a', 2, 500n, '{"n":2}')])).toThrow(twice);
    // At the same receive time as the event it would repeat, but another payload or exchange:
    // still held (window 100), handed out and remembered (window 1), both refused.
    for (const window of [100, 1]) {
      expect(() => run(new PartitionBuffer('t[0]', window, 1), [...first, ev('a', 2, 102n, '{"n":-2}')]), `window ${window}`).toThrow(twice);
      expect(() => run(new PartitionBuffer('t[0]', window, 1), [...first, ev('a', 2, 102n, '{"n":2}', 'coinbase')]), `window ${window}`).toThrow(twice);
      const buf = new PartitionBuffer('t[0]', window, 1);
      expect(run(buf, [...first, first[2]!, first[3]!, first[5]!]), `window ${window}: a resend is dropped`).toEqual(first);
      expect(buf.repeats).toBe(3);
    }
    // Earlier than the highest, under a number this partition never had: not a resend of anything.
    expect(() => run(new PartitionBuffer('t[0]', 100, 10), [ev('a', 0, 1n), ev('a', 4, 9n), ev('a', 2, 5n)])).toThrow(/t\[0\]@2: session a has event 2 after its event 4 in one partition \(two recordings/);
  });

  it('sends a resend deeper than it can compare to the whole read, which compares it', () => {
    const n = 16_384 + 300;
    const events = Array.from({ length: n }, (_, i) => ev('a', i, BigInt(i), `{"n":${i}}`));
    // Within the window and the fingerprints of what was handed out: dropped.
    const near = new PartitionBuffer('t[3]', 100, 50);
    expect(run(near, [...events, events[n - 16_000]!]).length).toBe(n);
    expect(near.repeats).toBe(1);
    // Beyond both: the streaming read cannot tell, and says so as it says a deep interleave.
    expect(() => run(new PartitionBuffer('t[3]', 100, 50), [...events, events[5]!])).toThrow(KafkaOrderError);
    expect(() => run(new PartitionBuffer('t[3]', 100, 50), [...events, events[5]!])).toThrow(/t\[3\]@\d+: event a#5 repeats one handed out more than 16484 events before/);
    // The whole read holds every event: the copy is dropped, another event under its number refused.
    const whole = new PartitionBuffer('t[3]', Infinity, 50);
    expect(run(whole, [...events, events[5]!]).length).toBe(n);
    expect(whole.repeats).toBe(1);
    expect(() => run(new PartitionBuffer('t[3]', Infinity, 50), [...events, ev('a', 5, 5n, 'other')])).toThrow(/session a has two different events numbered 5/);
  });
});

describe('PartitionBuffer after retention', () => {
  it('replays what retention left of a resent batch: a resent copy below the partition\'s first number of its session is the event', () => {
    const all = Array.from({ length: 12 }, (_, i) => ev('a', i, BigInt(100 + i), `{"n":${i}}`));
    // Events 0–7 sent, 8–11 after them, then 0–7 resent; retention deleted the log's head (offsets 0–3) up to event 4's first copy.
    const log = [...all.slice(4), ...all.slice(0, 8)];
    for (const window of [Infinity, 100]) {
      const buf = new PartitionBuffer('t[0]', window, 4);
      expect(run(buf, log, 4), `window ${window}`).toEqual(all);
      expect([buf.repeats, buf.onlyResent], `window ${window}`).toEqual([4, 4]);
    }
    // Events after them handed out already (a small window): the whole read places them.
    expect(() => run(new PartitionBuffer('t[0]', 2, 1), log, 4)).toThrow(KafkaOrderError);
    expect(() => run(new PartitionBuffer('t[0]', 2, 1), log, 4)).toThrow(/t\[0\]@12: event a#0 is the only copy left of one the partition's deleted head held \(retention\)/);
    // A partition whose head is whole lost nothing before its first record: that is a second recording.
    expect(() => run(new PartitionBuffer('t[0]', 100, 4), log)).toThrow(/t\[0\]@8: session a has event 0 after its event 11 in one partition \(two recordings/);
    // Below the first number but received after it: not an earlier event of this recording.
    expect(() => run(new PartitionBuffer('t[0]', 100, 4), [...all.slice(4), ev('a', 1, 105n, '{"n":1}')], 4)).toThrow(/t\[0\]@12: session a has event 1 after its event 11 in one partition \(two recordings/);
    // Below it and earlier, but another event under a number the resend also carries: refused there.
    const other = [...all.slice(4), ev('a', 3, 103n, '{"n":3}'), ev('a', 4, 104n, '{"n":-4}')];
    expect(() => run(new PartitionBuffer('t[0]', 100, 4), other, 4)).toThrow(/session a has two different events numbered 4/);
  });
});

describe('SessionOrder', () => {
  it('keeps one of the side-by-side copies of an event, in every session, across batches', () => {
    const order = new SessionOrder('t');
    const open = ev('a', 1, 10n, '');
    expect(order.keep([ev('a', 0, 5n), ev('b', 0, 6n), open])).toEqual([ev('a', 0, 5n), ev('b', 0, 6n), open]);
    expect(order.keep([{ ...open }, { ...open }, ev('b', 1, 11n), ev('a', 2, 12n)])).toEqual([ev('b', 1, 11n), ev('a', 2, 12n)]);
    expect(order.copies).toBe(2);
  });

  it('refuses another event under a number taken, and a session whose numbers go back in receive-time order', () => {
    expect(() => new SessionOrder('t').keep([ev('a', 0, 5n), ev('a', 1, 6n, 'x'), ev('a', 1, 6n, 'y')])).toThrow(/t: session a has two different events numbered 1 \(two recordings under one session id\?\)/);
    const order = new SessionOrder('t');
    order.keep([ev('a', 0, 5n), ev('b', 0, 6n), ev('a', 7, 7n)]);
    expect(() => order.keep([ev('b', 1, 8n), ev('a', 3, 9n)])).toThrow(/t: session a has event 3 after its event 7 in receive-time order/);
  });

  it('equals a sort by (session, ingest_seq) with copies dropped, on any merged stream of distinct events', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 })), { maxLength: 80 }), fc.integer({ min: 1, max: 7 }), (steps, cut) => {
      // Each session's events with rising numbers and receive times; each copied 1–3 times side by side.
      const seq = new Map<string, number>();
      let t = 0n;
      const stream: LogEvent[] = [];
      const once: LogEvent[] = [];
      for (const [s, gap, copies] of steps) {
        const n = (seq.get(s) ?? -1) + 1 + gap;
        seq.set(s, n);
        const e = ev(s, n, (t += 1n), `${s}${n}`);
        once.push(e);
        for (let k = 0; k < copies; k++) stream.push({ ...e });
      }
      const order = new SessionOrder('t');
      const out: LogEvent[] = [];
      for (let i = 0; i < stream.length; i += cut) out.push(...order.keep(stream.slice(i, i + cut)));
      expect(out).toEqual(once);
      expect(order.copies).toBe(stream.length - once.length);
    }));
  });
});
