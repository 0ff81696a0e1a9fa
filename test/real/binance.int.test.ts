/**
 * The Binance adapter over real recordings: hftbacktest's BTCUSDT session (2024, trade
 * stream without b/a) and cryptofeed's aggTrade sessions (2021). The counts are those the
 * fixtures README states; the decoder must find them all and no gap.
 */
import { describe, expect, it } from 'vitest';
import { decodeBinance, newBinanceState } from '../../src/exchanges/binance/decode.ts';
import { parseCryptofeedLine, parseHftbacktestLine } from '../../src/importers/formats.ts';
import type { LogEvent } from '../../src/log/event.ts';
import type { MarketEvent, Trade } from '../../src/market/events.ts';
import { REAL, readLines, real } from '../helpers.ts';

function decodeAll(events: LogEvent[]) {
  const state = newBinanceState();
  const out: MarketEvent[] = [];
  for (const ev of events) out.push(...decodeBinance(ev, state));
  return { out, state };
}

function hftEvents(file: string, from = 0): LogEvent[] {
  return readLines(real(file)).map((line, i) => {
    const r = parseHftbacktestLine(line);
    return { session: 's', ingestSeq: from + i, recvNs: r.recvNs, exchange: 'binance', conn: 'c', kind: r.kind, payload: r.payload, meta: r.meta };
  });
}

function cryptofeedEvents(file: string): LogEvent[] {
  return readLines(real(file)).flatMap((line, i) => {
    const r = parseCryptofeedLine(line);
    return r ? [{ session: 's', ingestSeq: i, recvNs: r.recvNs, exchange: 'binance', conn: 'c', kind: r.kind, payload: r.payload, meta: r.meta }] : [];
  });
}

describe.skipIf(!REAL)('Binance adapter on real recordings', () => {
  it('decodes every BTCUSDT trade and bookTicker of the two-file hftbacktest session, with no gap', () => {
    const a = hftEvents('binance/hftbacktest/btcusdt_20240808.gz');
    const b = hftEvents('binance/hftbacktest/btcusdt_20240809.gz', a.length);
    const { out, state } = decodeAll([...a, ...b]);
    const trades = out.filter((m): m is Trade => m.type === 'trade');
    expect(trades.length, 'README: 9,757 + 10,147 trade frames').toBe(9_757 + 10_147);
    expect(out.filter((m) => m.type === 'quote').length, 'README: 28,040 + 45,134 bookTicker frames').toBe(28_040 + 45_134);
    expect(state.counts.recognised.depthUpdate, 'depth frames are recognised and counted').toBe(3_451 + 3_044);
    expect(out.filter((m) => m.type === 'gap'), 'trade ids run contiguously across the file boundary').toEqual([]);
    expect(out.filter((m) => m.type === 'decode_error')).toEqual([]);
    expect(state.counts.unknown).toEqual({});
    expect(trades[0]!.tradeId).toBe(3_735_683_259n);
    expect(trades.at(-1)!.tradeId).toBe(3_735_703_162n);
    // First trade: "m":true — buyer is maker, so the taker sold.
    expect(trades[0]).toMatchObject({ symbol: 'BTCUSDT', price: 61837.63, size: 0.02, side: 'sell', tsUs: 1723161255342000 });
  });

  it.each([
    ['binance/cryptofeed/BINANCE-ee25be.0', 1_910],
    ['binance/cryptofeed/BINANCE-b38f7c.0', 1_240],
  ])('decodes every aggTrade of %s contiguously', (file, expected) => {
    const { out, state } = decodeAll(cryptofeedEvents(file));
    expect(out.filter((m) => m.type === 'trade').length).toBe(expected);
    expect(out.filter((m) => m.type === 'gap')).toEqual([]);
    expect(out.filter((m) => m.type === 'decode_error')).toEqual([]);
    expect(state.counts.unknown, 'every message shape in the recording is known').toEqual({});
  });

  it('knows every message of the Binance.US and multi-symbol recordings', () => {
    for (const f of ['binance/cryptofeed/BINANCE.ws.1.0', 'binance/cryptofeed/BINANCE_US.ws.1.0', 'binance/cryptofeed/BINANCE.http.0.0']) {
      const { out, state } = decodeAll(cryptofeedEvents(f));
      expect(out.filter((m) => m.type === 'decode_error'), f).toEqual([]);
      expect(state.counts.unknown, f).toEqual({});
    }
  });
});
