/**
 * PartitionBuffer, without a broker: sessions interleaved shallower than the window come
 * out in replay order, each event once; whatever cannot be put in that order (a deeper
 * interleave, a session's clock going back, records gone from the log) is an error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KafkaSourceError, PartitionBuffer } from '../../replayer/kafka-partition.ts';
import { compareLogOrder, type LogEvent } from '../../src/log/event.ts';

const ev = (session: string, ingestSeq: number, recvNs: bigint): LogEvent =>
  ({ session, ingestSeq, recvNs, exchange: 'binance', conn: 'c', kind: 'frame', payload: '{}', meta: '' });

/** Feeds records as a consumer would (stopping when full) and drains as the merge would. */
function run(buf: PartitionBuffer, records: LogEvent[]): LogEvent[] {
  const out: LogEvent[] = [];
  let i = 0;
  for (;;) {
    while (i < records.length && !buf.full) buf.add(records[i]!, i++);
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
});
