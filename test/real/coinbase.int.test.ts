/**
 * The Coinbase adapter over cryptofeed's real COINBASE.ws.28.0: zero decode errors, and
 * the taker-side rule pinned on the recording's own match/ticker pairs (same trade_id):
 * the ticker's side is the taker side, and our normalized match side must equal it.
 */
import { describe, expect, it } from 'vitest';
import { decodeCoinbase, newCoinbaseState } from '../../src/exchanges/coinbase/decode.ts';
import { parseCryptofeedLine } from '../../src/importers/formats.ts';
import type { LogEvent } from '../../src/log/event.ts';
import type { MarketEvent, Trade } from '../../src/market/events.ts';
import { REAL, readLines, real } from '../helpers.ts';

describe.skipIf(!REAL)('Coinbase adapter on the real recording', () => {
  const events: LogEvent[] = REAL
    ? readLines(real('coinbase/cryptofeed/COINBASE.ws.28.0')).flatMap((line, i) => {
      const r = parseCryptofeedLine(line);
      return r ? [{ session: 's', ingestSeq: i, recvNs: r.recvNs, exchange: 'coinbase', conn: 'c', kind: r.kind, payload: r.payload, meta: r.meta }] : [];
    })
    : [];
  const state = newCoinbaseState();
  const out: MarketEvent[] = events.flatMap((ev) => decodeCoinbase(ev, state));

  it('decodes with zero decode errors and knows every message type', () => {
    expect(out.filter((m) => m.type === 'decode_error')).toEqual([]);
    expect(state.counts.unknown).toEqual({});
    expect(state.counts.recognised).toEqual({ snapshot: 10, l2update: 9_719 });
    expect(out.filter((m) => m.type === 'trade').length, '97 match + 10 last_match').toBe(107);
    expect(out.filter((m) => m.type === 'quote').length, '107 tickers').toBe(107);
    expect(out.filter((m) => m.type === 'status' && m.status === 'subscribed').length).toBe(3);
    expect(out.filter((m) => m.type === 'gap'), 'trade_id is contiguous per product').toEqual([]);
  });

  it('normalizes match.side (maker) to the taker side the ticker reports, on all 107 pairs', () => {
    const takerByTradeId = new Map<string, string>();
    for (const ev of events) {
      if (ev.kind !== 'frame' || !ev.payload.includes('"type":"ticker"')) continue;
      const t = JSON.parse(ev.payload) as { trade_id: number; side: string; product_id: string };
      takerByTradeId.set(`${t.product_id}#${t.trade_id}`, t.side);
    }
    const trades = out.filter((m): m is Trade => m.type === 'trade');
    let pairs = 0;
    for (const t of trades) {
      const taker = takerByTradeId.get(`${t.symbol}#${t.tradeId}`);
      if (taker === undefined) continue;
      pairs++;
      expect(t.side, `trade ${t.symbol} #${t.tradeId}: ticker says the taker ${taker === 'buy' ? 'bought' : 'sold'}`).toBe(taker);
    }
    expect(pairs, 'README: 107 match/ticker pairs').toBe(107);
  });
});
