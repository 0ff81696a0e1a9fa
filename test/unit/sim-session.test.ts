/**
 * The streaming session generator yields exactly what the old generate-all-then-sort one
 * did (kept here as the oracle), for any seed, latency, dropped trades and extra frames:
 * the committed golden session and every demo archive depend on it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/log/event.ts';
import { FrameEncoder } from '../../src/sim/frames.ts';
import { binanceCombined, binanceStream } from '../../src/exchanges/binance/wire.ts';
import { DEFAULT_ASSETS, simSymbols, simulateMarket, type SimTrade } from '../../src/sim/market.ts';
import { Rng } from '../../src/sim/random.ts';
import { simEndpoints, streamSession, type SimSessionOptions } from '../../src/sim/session.ts';

type Raw = Omit<LogEvent, 'session' | 'ingestSeq'>;

/** The generator as it was before streaming (commit e06927c): everything in memory, one stable sort. */
function oracleSession(o: SimSessionOptions): LogEvent[] {
  const rng = new Rng(o.seed ^ 0x5eed);
  const tickNs = BigInt(o.tickMs ?? 1000) * 1_000_000n;
  const startNs = BigInt(o.startMs) * 1_000_000n;
  const endNs = BigInt(o.startMs + o.durationMs) * 1_000_000n;
  const raws: Raw[] = [];
  const lastRecv = new Map<string, bigint>();
  const assets = o.assets ?? DEFAULT_ASSETS;
  for (const x of o.exchanges) {
    const ep = simEndpoints(x, assets.flatMap((a) => simSymbols(x, a.base)));
    const conn = `${x}.0`;
    raws.push({ recvNs: startNs, exchange: x, conn, kind: 'open', payload: '', meta: ep.url });
    raws.push({ recvNs: startNs + 1n, exchange: x, conn, kind: 'sent', payload: ep.subscribe[0]!, meta: '' });
    raws.push({ recvNs: startNs + 2_000_000n, exchange: x, conn, kind: 'frame', payload: ep.ack[0]!, meta: '' });
    lastRecv.set(x, startNs + 2_000_000n);
  }
  const enc = new FrameEncoder();
  for (const e of simulateMarket(o)) {
    const raw = enc.encode(e);
    // Recorders subscribe to Binance's combined streams: each payload comes wrapped.
    const payload = e.exchange === 'coinbase' ? raw : binanceCombined(binanceStream(e.symbol, e.kind === 'trade' ? 'trade' : 'bookTicker'), raw);
    if (e.kind === 'trade' && o.dropTradeIds?.has(e.tradeId)) continue;
    const latUs = Math.max(50, ((o.latencyMs?.[e.exchange] ?? 20) + 5 * rng.normal()) * 1000);
    let recv = BigInt(e.tsUs) * 1000n + BigInt(Math.round(latUs * 1000));
    const prev = lastRecv.get(e.exchange)!;
    if (recv <= prev) recv = prev + 1000n;
    lastRecv.set(e.exchange, recv);
    raws.push({ recvNs: recv, exchange: e.exchange, conn: `${e.exchange}.0`, kind: 'frame', payload, meta: '' });
  }
  for (const x of o.extraFrames ?? []) {
    raws.push({ recvNs: startNs + BigInt(Math.round(x.atMs * 1e6)), exchange: x.exchange, conn: `${x.exchange}.0`, kind: 'frame', payload: x.payload, meta: '' });
  }
  for (let t = startNs + tickNs; t <= endNs; t += tickNs) raws.push({ recvNs: t, exchange: '', conn: '', kind: 'tick', payload: '', meta: '' });
  raws.sort((a, b) => (a.recvNs < b.recvNs ? -1 : a.recvNs > b.recvNs ? 1 : 0));
  return raws.map((r, i) => ({ session: o.session, ingestSeq: i, ...r }));
}

describe('streamSession', () => {
  it('yields the same events as the in-memory generator (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 60 }), fc.boolean(),
      fc.constantFrom(['binance', 'coinbase'], ['coinbase', 'binance'], ['binance']),
      (seed, seconds, latency, faults, exchanges) => {
        const base = { seed, startMs: Date.UTC(2024, 7, 9, 23, 59, 50), durationMs: seconds * 1000, exchanges };
        const trades = [...simulateMarket(base)].filter((e): e is SimTrade => e.kind === 'trade');
        const o: SimSessionOptions = {
          ...base, session: 'p', latencyMs: { binance: latency, coinbase: 61 - latency }, tickMs: 700,
          ...(faults && trades.length > 2 ? {
            dropTradeIds: new Set([trades[0]!.tradeId, trades[trades.length - 1]!.tradeId]),
            extraFrames: [{ atMs: 0, exchange: 'binance', payload: '{"x":1' }, { atMs: seconds * 500, exchange: 'coinbase', payload: 'é' }, { atMs: 2, exchange: 'binance', payload: '' }],
          } : {}),
        };
        expect([...streamSession(o)]).toEqual(oracleSession(o));
      },
    ), { numRuns: 40 });
  });

  it('keeps the demo default (seed 42, 15 min) and the golden session (seed 7, 3 min) unchanged', () => {
    for (const [seed, minutes, startMs] of [[42, 15, Date.UTC(2024, 7, 9)], [7, 3, Date.UTC(2024, 7, 9, 12)]] as const) {
      const o: SimSessionOptions = { session: 's', seed, startMs, durationMs: minutes * 60_000, exchanges: ['binance', 'coinbase'] };
      const got = [...streamSession(o)];
      const want = oracleSession(o);
      expect(got.length).toBe(want.length);
      expect(got, `seed ${seed}`).toEqual(want);
    }
  });
});
