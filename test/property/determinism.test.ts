/**
 * The promise, as properties over generated sessions (seeded simulator, with dropped
 * trades for gaps): the outputs do not depend on replay speed, on how the archive is cut
 * into files, or on the run; and every candle satisfies its invariants.
 */
import fs from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pace, type PaceClock } from '../../replayer/pace.ts';
import { planArchive, readArchive } from '../../replayer/read.ts';
import { indicatorColumns } from '../../src/storage/run.ts';
import { DEFAULT_CONFIG, type EngineConfig } from '../../src/engine/config.ts';
import { Engine } from '../../src/engine/engine.ts';
import { TableCollector, type OutputTables } from '../../src/engine/rows.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { simulateMarket, type SimTrade } from '../../src/sim/market.ts';
import { simulateSession } from '../../src/sim/session.ts';
import { ArchiveWriter } from '../../src/storage/archive.ts';
import { digestTables } from '../../src/storage/outputs.ts';
import { tmpDir } from '../helpers.ts';

const CFG: EngineConfig = { ...DEFAULT_CONFIG, intervalsMs: [1_000, 10_000, 60_000], smaPeriods: [3, 5], emaPeriods: [4], rsiPeriod: 3 };

async function run(events: AsyncIterable<LogEvent> | Iterable<LogEvent>): Promise<OutputTables> {
  const c = new TableCollector();
  const engine = new Engine(CFG, c);
  for await (const ev of events) engine.onLog(ev);
  engine.finish();
  return c.tables;
}

/** A clock that never waits for real: sleeping moves virtual time forward. */
function virtualClock(): PaceClock & { slept: number } {
  let now = 0;
  return {
    slept: 0,
    nowMs: () => now,
    sleep(ms) {
      now += ms;
      this.slept += ms;
      return Promise.resolve();
    },
  };
}

async function* fromArray(events: LogEvent[]): AsyncGenerator<LogEvent> {
  yield* events;
}

const sessionArb = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  durationMs: fc.integer({ min: 20_000, max: 150_000 }),
  drops: fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 4 }),
  rowsPerFile: fc.integer({ min: 50, max: 5_000 }),
  speed: fc.double({ min: 0.5, max: 1000, noNaN: true }),
});

function makeSession(p: { seed: number; durationMs: number; drops: number[] }) {
  const base = { seed: p.seed, startMs: Date.UTC(2024, 7, 8, 23, 59, 0), durationMs: p.durationMs, exchanges: ['binance', 'coinbase'] };
  const trades = [...simulateMarket(base)].filter((e): e is SimTrade => e.kind === 'trade');
  const drop = new Set(p.drops.map((i) => trades[i % Math.max(1, trades.length)]!.tradeId));
  const events = simulateSession({ ...base, session: `prop-${p.seed}`, dropTradeIds: drop });
  return { events, delivered: trades.filter((t) => !drop.has(t.tradeId)), dropped: trades.filter((t) => drop.has(t.tradeId)) };
}

describe('determinism (property)', () => {
  it('outputs are independent of speed, archive chunking and the run', async () => {
    await fc.assert(fc.asyncProperty(sessionArb, async (p) => {
      const { events } = makeSession(p);
      const direct = digestTables(await run(events), indicatorColumns(CFG));
      const again = digestTables(await run(events), indicatorColumns(CFG));
      expect(again, 'the same events twice').toEqual(direct);

      const clock = virtualClock();
      const paced = digestTables(await run(pace(fromArray(events), p.speed, clock)), indicatorColumns(CFG));
      expect(paced, `paced at ${p.speed}x`).toEqual(direct);
      const spanMs = Number(events.at(-1)!.recvNs - events[0]!.recvNs) / 1e6;
      expect(clock.slept, 'the pacer really waited recorded time / speed').toBeGreaterThan(spanMs / p.speed - 2);

      const dir = tmpDir();
      try {
        const w = new ArchiveWriter(dir, events[0]!.session, { maxRows: p.rowsPerFile });
        for (const ev of events) w.write(ev);
        const files = w.close();
        expect(files.length).toBeGreaterThanOrEqual(Math.ceil(events.length / p.rowsPerFile));
        const fromArchive = digestTables(await run(readArchive(await planArchive(dir))), indicatorColumns(CFG));
        expect(fromArchive, `archive cut every ${p.rowsPerFile} rows`).toEqual(direct);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }), { numRuns: 12 });
  });

  it('candles hold their invariants: low ≤ open, close ≤ high; Σ volume = Σ trade size; each trade counted once', async () => {
    await fc.assert(fc.asyncProperty(sessionArb, async (p) => {
      const { events, delivered, dropped } = makeSession(p);
      const t = await run(events);
      for (const c of t.candles) {
        const at = `${c.exchange} ${c.symbol} ${c.interval} ${c.window_start}`;
        expect(c.low <= c.open && c.open <= c.high, `${at}: low ≤ open ≤ high`).toBe(true);
        expect(c.low <= c.close && c.close <= c.high, `${at}: low ≤ close ≤ high`).toBe(true);
        expect(c.low <= c.vwap + 1e-9 && c.vwap <= c.high + 1e-9, `${at}: vwap within range`).toBe(true);
        expect(Math.abs(c.buy_volume + c.sell_volume - c.volume) <= 1e-9 * c.volume, `${at}: buy + sell = volume`).toBe(true);
      }
      for (const interval of ['1s', '10s', '1m']) {
        const candles = t.candles.filter((c) => c.interval === interval);
        const late = t.late.filter((l) => l.interval === interval);
        const counted = candles.reduce((n, c) => n + c.trades, 0) + late.length;
        expect(counted, `${interval}: every delivered trade is in exactly one candle or the late table`).toBe(delivered.length);
        const vol = candles.reduce((s, c) => s + c.volume, 0) + late.reduce((s, l) => s + l.size, 0);
        const want = delivered.reduce((s, d) => s + d.size, 0);
        expect(Math.abs(vol - want), `${interval}: Σ volume = Σ trade size`).toBeLessThan(1e-6);
      }
      // A dropped trade shows as a gap once a later trade of its market arrives (and an
      // earlier one set the baseline): exactly those must be reported, id by id.
      const detectable = dropped.filter((d) => delivered.some((x) => x.symbol === d.symbol && x.exchange === d.exchange && x.tradeId < d.tradeId)
        && delivered.some((x) => x.symbol === d.symbol && x.exchange === d.exchange && x.tradeId > d.tradeId));
      const reported = t.gaps.flatMap((g) => Array.from({ length: Number(g.missing) }, (_, i) => `${g.exchange}:${g.symbol}:${g.from_id + BigInt(i)}`));
      expect(reported.sort(), 'gap rows name exactly the dropped trade ids').toEqual(detectable.map((d) => `${d.exchange}:${d.symbol}:${d.tradeId}`).sort());
    }), { numRuns: 25 });
  });
});
