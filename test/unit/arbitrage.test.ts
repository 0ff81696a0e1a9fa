/**
 * The arbitrage detector on generated two-exchange sessions: one with hand-placed
 * crossings (it must find exactly those, with the right reasons), and random quote walks
 * checked against a brute-force reference of the definition (property).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type EngineConfig } from '../../src/engine/config.ts';
import { Engine } from '../../src/engine/engine.ts';
import { TableCollector } from '../../src/engine/rows.ts';
import type { LogEvent } from '../../src/log/event.ts';

const CFG: EngineConfig = {
  ...DEFAULT_CONFIG,
  arbitrage: { ...DEFAULT_CONFIG.arbitrage, feesBps: { binance: 10, coinbase: 10 }, minEdgeBps: 1, stalenessMs: 1000 },
};
const T0 = 1_723_161_600_000_000_000n; // 2024-08-09T00:00:00Z in ns

type Q = { ms: number; x: 'binance' | 'coinbase' | 'tick'; bid?: number; ask?: number };

function session(quotes: Q[]): LogEvent[] {
  return quotes.map((q, i) => {
    const recvNs = T0 + BigInt(q.ms) * 1_000_000n;
    const base = { session: 'arb', ingestSeq: i, recvNs, conn: 'c', meta: '' };
    if (q.x === 'tick') return { ...base, exchange: '', kind: 'tick', payload: '' };
    const payload = q.x === 'binance'
      ? `{"stream":"btcusdt@bookTicker","data":{"u":${i + 1},"s":"BTCUSDT","b":"${q.bid}","B":"1.0","a":"${q.ask}","A":"1.0"}}`
      : `{"type":"ticker","sequence":${i + 1},"product_id":"BTC-USD","price":"${q.bid}","best_bid":"${q.bid}","best_ask":"${q.ask}","side":"buy","trade_id":${i + 1},"last_size":"0.1"}`;
    return { ...base, exchange: q.x, kind: 'frame', payload };
  });
}

function arbitrage(events: LogEvent[], cfg = CFG) {
  const c = new TableCollector();
  const e = new Engine(cfg, c);
  for (const ev of events) e.onLog(ev);
  e.finish();
  return c.tables.arbitrage;
}

describe('arbitrage detector', () => {
  it('finds exactly the hand-placed crossings, once at start and once at end', () => {
    const rows = arbitrage(session([
      { ms: 0, x: 'binance', bid: 100.0, ask: 100.01 },
      { ms: 1, x: 'coinbase', bid: 100.0, ask: 100.02 },
      { ms: 100, x: 'coinbase', bid: 100.5, ask: 100.52 }, // buy binance 100.01, sell coinbase 100.50: opens
      { ms: 200, x: 'coinbase', bid: 100.51, ask: 100.53 }, // still open: no row
      { ms: 300, x: 'binance', bid: 100.49, ask: 100.5 }, // edge gone: closes
      { ms: 500, x: 'binance', bid: 99.0, ask: 99.01 }, // opens again (coinbase quote 300 ms old)
      { ms: 1600, x: 'binance', bid: 99.0, ask: 99.01 }, // coinbase quote 1400 ms old: stale, closes
      { ms: 1700, x: 'coinbase', bid: 98.0, ask: 98.01 }, // buy coinbase, sell binance: opens
      { ms: 2800, x: 'tick' }, // coinbase quote 1100 ms old: a tick alone closes it
      { ms: 3000, x: 'binance', bid: 99.0, ask: 99.01 }, // coinbase still stale: nothing opens
    ]));
    expect(rows.map((r) => [Number((r.recv_ns - T0) / 1_000_000n), r.event, r.buy_exchange, r.sell_exchange, r.reason])).toEqual([
      [100, 'start', 'binance', 'coinbase', ''],
      [300, 'end', 'binance', 'coinbase', 'edge'],
      [500, 'start', 'binance', 'coinbase', ''],
      [1600, 'end', 'binance', 'coinbase', 'stale'],
      [1700, 'start', 'coinbase', 'binance', ''],
      [2800, 'end', 'coinbase', 'binance', 'stale'],
    ]);
    const first = rows[0]!;
    expect(first.asset, 'BTCUSDT and BTC-USD meet as BTC/USD (USDT as USD)').toBe('BTC/USD');
    expect(first.net_edge_bps).toBeCloseTo(((100.5 * 0.999 - 100.01 * 1.001) / 100.01) * 1e4, 9);
    expect(first.gross_edge_bps).toBeCloseTo(((100.5 - 100.01) / 100.01) * 1e4, 9);
    expect(first.buy_age_ms).toBe(100);
    expect(first.sell_age_ms).toBe(0);
    expect(rows[1]!.peak_net_edge_bps, 'the peak covers the 200 ms improvement').toBeCloseTo(((100.51 * 0.999 - 100.01 * 1.001) / 100.01) * 1e4, 9);
    expect(rows[1]!.duration_ms).toBe(200);
  });

  it('with USDT not taken as USD, BTCUSDT and BTC-USD never meet', () => {
    const rows = arbitrage(session([
      { ms: 0, x: 'binance', bid: 99.0, ask: 99.01 },
      { ms: 1, x: 'coinbase', bid: 101, ask: 101.01 },
    ]), { ...CFG, arbitrage: { ...CFG.arbitrage, usdtAsUsd: false } });
    expect(rows).toEqual([]);
  });

  it('matches a brute-force reference on random quote walks (property)', () => {
    const step = fc.record({
      dt: fc.integer({ min: 1, max: 700 }),
      x: fc.constantFrom<'binance' | 'coinbase' | 'tick'>('binance', 'coinbase', 'tick'),
      mid: fc.integer({ min: 9_900, max: 10_100 }),
      spread: fc.integer({ min: 1, max: 5 }),
    });
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => {
      let ms = 0;
      const qs: Q[] = steps.map((s) => {
        ms += s.dt;
        return s.x === 'tick' ? { ms, x: 'tick' } : { ms, x: s.x, bid: s.mid / 100, ask: (s.mid + s.spread) / 100 };
      });
      const got = arbitrage(session(qs)).map((r) => `${r.recv_ns - T0} ${r.event} ${r.buy_exchange}>${r.sell_exchange} ${r.reason}`);
      expect(got).toEqual(reference(qs));
    }), { numRuns: 300 });
  });
});

/** The definition, evaluated naively after every event. */
function reference(qs: Q[]): string[] {
  const fee = 0.001;
  const book: Record<string, { bid: number; ask: number; ms: number }> = {};
  const open: Record<string, boolean> = {};
  const out: string[] = [];
  let lastMs = 0;
  for (const q of qs) {
    lastMs = q.ms;
    if (q.x !== 'tick') book[q.x] = { bid: q.bid!, ask: q.ask!, ms: q.ms };
    for (const [buy, sell] of [['binance', 'coinbase'], ['coinbase', 'binance']] as const) {
      const b = book[buy];
      const s = book[sell];
      const key = `${buy}>${sell}`;
      if (!b || !s) continue;
      const stale = q.ms - b.ms > 1000 || q.ms - s.ms > 1000;
      const net = ((s.bid * (1 - fee) - b.ask * (1 + fee)) / b.ask) * 1e4;
      const clears = !stale && net >= 1;
      if (clears && !open[key]) {
        open[key] = true;
        out.push(`${BigInt(q.ms) * 1_000_000n} start ${key} `);
      } else if (!clears && open[key]) {
        open[key] = false;
        out.push(`${BigInt(q.ms) * 1_000_000n} end ${key} ${stale ? 'stale' : 'edge'}`);
      }
    }
  }
  for (const key of Object.keys(open).sort()) if (open[key]) out.push(`${BigInt(lastMs) * 1_000_000n} end ${key} eof`);
  return out;
}
