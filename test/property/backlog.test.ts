/**
 * A recorder that falls behind (issue 10 item 4), property: however far behind it falls
 * while it keeps reading, its ticks (which fire on its own clock, on time) never close a
 * window whose trades are still unread in a socket — no trade goes to `late` and every
 * candle holds exactly its window's trades, as in the same session received on time. And
 * ticks still close the windows of a quiet market, so nothing waits for the end of input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type EngineConfig } from '../../src/engine/config.ts';
import { Engine } from '../../src/engine/engine.ts';
import { TableCollector, type CandleRow } from '../../src/engine/rows.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { simulateSession } from '../../src/sim/session.ts';
import { canonicalRows } from '../../src/storage/outputs.ts';

const CFG: EngineConfig = { ...DEFAULT_CONFIG, intervalsMs: [1_000, 10_000, 60_000] };
const MS = 1_000_000n;

function run(events: readonly LogEvent[]): { candles: CandleRow[]; late: number; closedAt: Map<string, number> } {
  const c = new TableCollector();
  let at = 0;
  const closedAt = new Map<string, number>();
  const e = new Engine(CFG, {
    emit(table, row) {
      c.emit(table, row);
      if (table === 'candles') {
        const r = row as CandleRow;
        closedAt.set(`${r.exchange} ${r.symbol} ${r.interval} ${r.window_start}`, at);
      }
    },
  });
  for (const [i, ev] of events.entries()) {
    at = i;
    e.onLog(ev);
  }
  at = events.length;
  e.finish();
  return { candles: canonicalRows('candles', c.tables.candles) as unknown as CandleRow[], late: c.tables.late.length, closedAt };
}

const strip = (rows: CandleRow[]) => rows.map(({ session: _s, ingest_seq: _i, ...rest }) => rest);

/**
 * The same session read by a recorder that serves frames one after another at `serviceMs`
 * each during [slowFromMs, slowFromMs + slowForMs) of the session (slower than they come:
 * a backlog builds, then drains), stalled once for `stallMs`; ticks keep their times
 * (timers fire between reads), except those due during the stall, which fire at its end.
 */
function behind(events: readonly LogEvent[], startNs: bigint, slowFromMs: number, slowForMs: number, serviceMs: number, stallAtMs: number, stallMs: number): LogEvent[] {
  const slowFrom = startNs + BigInt(slowFromMs) * MS;
  const slowTo = slowFrom + BigInt(slowForMs) * MS;
  const stallAt = startNs + BigInt(stallAtMs) * MS;
  const stallEnd = stallAt + BigInt(stallMs) * MS;
  const service = BigInt(Math.round(serviceMs * 1e6));
  let free = 0n;
  const out: LogEvent[] = [];
  for (const ev of events) {
    if (ev.kind === 'tick') {
      out.push(ev.recvNs >= stallAt && ev.recvNs < stallEnd ? { ...ev, recvNs: stallEnd } : ev);
      continue;
    }
    let t = ev.recvNs > free ? ev.recvNs : free;
    if (t >= stallAt && t < stallEnd) t = stallEnd;
    free = t + (t >= slowFrom && t < slowTo ? service : 0n);
    out.push({ ...ev, recvNs: t });
  }
  // Stable: a tick due at the instant a frame is read fires after it, as before.
  return out.map((ev, i) => ({ ev, i })).sort((a, b) => (a.ev.recvNs < b.ev.recvNs ? -1 : a.ev.recvNs > b.ev.recvNs ? 1 : a.i - b.i)).map(({ ev }, i) => ({ ...ev, ingestSeq: i }));
}

describe('a recorder behind its sockets (property)', () => {
  it('closes no window its unread frames belong to: no late trade, candles equal the on-time session', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      fc.integer({ min: 0, max: 60_000 }),
      fc.integer({ min: 5_000, max: 90_000 }),
      fc.double({ min: 2, max: 20, noNaN: true }),
      fc.integer({ min: 0, max: 150_000 }),
      fc.integer({ min: 0, max: 4_000 }),
      (seed, slowFromMs, slowForMs, serviceMs, stallAtMs, stallMs) => {
        const startMs = Date.UTC(2024, 7, 9);
        const onTime = simulateSession({ seed, startMs, durationMs: 150_000, exchanges: ['binance', 'coinbase'], session: 'bl' });
        const late = behind(onTime, BigInt(startMs) * MS, slowFromMs, slowForMs, serviceMs, stallAtMs, stallMs);
        const want = run(onTime);
        const got = run(late);
        expect(got.late, 'no trade is late').toBe(0);
        expect(strip(got.candles)).toEqual(strip(want.candles));
      },
    ), { numRuns: 15 });
  });

  it('still closes a quiet market\'s windows on ticks, long before the input ends', () => {
    const startMs = Date.UTC(2024, 7, 9);
    // One minute of trading, then ten of silence with the recorder ticking.
    const events = simulateSession({ seed: 5, startMs, durationMs: 660_000, exchanges: ['binance'], session: 'q' })
      .filter((ev) => ev.kind !== 'frame' || ev.recvNs < BigInt(startMs + 60_000) * MS);
    const { candles, closedAt } = run(events);
    const lastMinute = candles.filter((c) => c.interval === '1m').at(-1)!;
    const closed = closedAt.get(`${lastMinute.exchange} ${lastMinute.symbol} 1m ${lastMinute.window_start}`)!;
    const firstTickAfter = events.findIndex((ev) => ev.kind === 'tick' && ev.recvNs > BigInt(startMs + 60_000 + 5_000 + 2_000 + 1_000) * MS);
    expect(closed, 'the last trading minute closes on a tick within seconds, not at the end of input').toBeLessThanOrEqual(firstTickAfter);
    expect(lastMinute.flags, 'closed by time, not by the end of input').not.toContain('end');
  });
});
