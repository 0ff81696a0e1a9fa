/**
 * Backfill makes a gap whole (property): a session where some trade frames never arrived,
 * but REST responses carrying them come a little later, gives exactly the candles of the
 * same session with nothing dropped — for Binance (historicalTrades) and Coinbase
 * (/products/{id}/trades) alike, and across a disconnect.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type EngineConfig } from '../../src/engine/config.ts';
import { Engine } from '../../src/engine/engine.ts';
import { TableCollector } from '../../src/engine/rows.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { simulateMarket, type SimTrade } from '../../src/sim/market.ts';
import { simulateSession } from '../../src/sim/session.ts';
import { restTradesBody, restTradesUrl } from '../../src/sim/rest.ts';
import { canonicalRows } from '../../src/storage/outputs.ts';

const CFG: EngineConfig = { ...DEFAULT_CONFIG, intervalsMs: [1_000, 10_000, 60_000] };

function candles(events: LogEvent[]) {
  const c = new TableCollector();
  const e = new Engine(CFG, c);
  for (const ev of events) e.onLog(ev);
  e.finish();
  // Canonical order (as written to Parquet); the log position naturally differs.
  return { candles: canonicalRows('candles', c.tables.candles).map(({ session: _s, ingest_seq: _i, ...rest }) => rest), late: c.tables.late };
}

describe('backfill (property)', () => {
  it('dropped trades + later REST rows = the undropped session', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      fc.array(fc.integer({ min: 5, max: 300 }), { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 1, max: 1500 }),
      fc.boolean(),
      (seed, picks, delayMs, disconnect) => {
        const base = { seed, startMs: Date.UTC(2024, 7, 9), durationMs: 60_000, exchanges: ['binance', 'coinbase'], session: 'bf' };
        const trades = [...simulateMarket(base)].filter((e): e is SimTrade => e.kind === 'trade');
        // A loss is revealed by the market's next trade: pick trades with a predecessor and a
        // successor within 1 s, so the gap is known before the 2 s lateness closes its window
        // (a loss revealed later can only be late: windows never reopen).
        const detectable = trades.filter((t, i) => trades.slice(0, i).some((p) => p.exchange === t.exchange && p.symbol === t.symbol)
          && trades.slice(i + 1).some((n) => n.exchange === t.exchange && n.symbol === t.symbol && n.tsUs - t.tsUs < 1_000_000));
        const dropped = [...new Set(picks.map((p) => detectable[p % detectable.length]!))];
        const full = simulateSession(base);
        const holed = simulateSession({ ...base, dropTradeIds: new Set(dropped.map((t) => t.tradeId)) });
        // Each dropped trade comes back in a REST body `delayMs` after the next trade of
        // its market revealed the gap (or, with `disconnect`, after a close/open pair).
        const withRest: LogEvent[] = [...holed];
        for (const d of dropped) {
          const next = trades.find((t) => t.exchange === d.exchange && t.symbol === d.symbol && t.tradeId > d.tradeId && !dropped.includes(t));
          if (next === undefined) continue;
          const at = BigInt(next.tsUs) * 1000n + BigInt(delayMs) * 1_000_000n + 30_000_000n;
          withRest.push({ session: 'bf', ingestSeq: -1, recvNs: at, exchange: d.exchange, conn: 'rest', kind: 'rest', payload: restTradesBody(d.exchange, [d]), meta: restTradesUrl(d.exchange, d.symbol, d.exchange === 'coinbase' ? d.tradeId + 1 : d.tradeId) });
          if (disconnect) {
            const closeAt = BigInt(d.tsUs) * 1000n;
            withRest.push({ session: 'bf', ingestSeq: -1, recvNs: closeAt, exchange: d.exchange, conn: `${d.exchange}.0`, kind: 'close', payload: '', meta: '1006' });
          }
        }
        withRest.sort((a, b) => (a.recvNs < b.recvNs ? -1 : a.recvNs > b.recvNs ? 1 : 0));
        const session = withRest.map((ev, i) => ({ ...ev, ingestSeq: i }));
        const want = candles(full);
        const got = candles(session);
        expect(got.late, 'no backfilled trade is late').toEqual([]);
        expect(got.candles, 'candles equal those of the session that lost nothing').toEqual(want.candles);
      },
    ), { numRuns: 40 });
  });
});
