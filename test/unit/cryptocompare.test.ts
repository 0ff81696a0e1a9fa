/**
 * The CryptoCompare streamer v2 adapter, one frame shape at a time. No real capture exists:
 * every frame here is the published spec's example shape (protocols.md §5b, the AsyncAPI
 * description it cites) or the simulator's, so these tests say the adapter reads the spec,
 * not that it reads the real streamer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCryptoCompare, newCcState, type CcState } from '../../src/exchanges/cryptocompare/decode.ts';
import { canonicalAsset, defaultFees, EXCHANGES } from '../../src/exchanges/registry.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import { Engine } from '../../src/engine/engine.ts';
import type { OutputSink } from '../../src/engine/rows.ts';
import { venueChoices } from '../../src/cli/record.ts';
import { venue } from '../../recorder/venues.ts';
import type { LogEvent } from '../../src/log/event.ts';
import type { MarketEvent, Trade } from '../../src/market/events.ts';

let seq = 0;
const ev = (payload: string, kind: LogEvent['kind'] = 'frame'): LogEvent =>
  ({ session: 't', ingestSeq: seq++, recvNs: 1_593_768_261_000_000_000n, exchange: 'cryptocompare', conn: 'c', kind, payload, meta: '' });

const SPEC_TRADE = '{"TYPE":"0","M":"Coinbase","FSYM":"BTC","TSYM":"USD","F":"2","ID":"12345678","TS":1593768260,"Q":0.01,"P":32500.12,"TOTAL":325.0012,"RTS":1593768260,"CCSEQ":987654321}';

const trade = (o: { m?: string; id: string | number; f?: string; ts?: number; tsns?: number; seq?: number; p?: string; q?: string }): string =>
  `{"TYPE":"0","M":"${o.m ?? 'Kraken'}","FSYM":"BTC","TSYM":"USD","F":"${o.f ?? '1'}","ID":"${o.id}","TS":${o.ts ?? 1593768260},`
  + `${o.tsns !== undefined ? `"TSNS":${o.tsns},` : ''}"Q":${o.q ?? '0.5'},"P":${o.p ?? '32000.5'},"TOTAL":1,"RTS":1593768260${o.seq !== undefined ? `,"CCSEQ":${o.seq}` : ''}}`;

const decode = (s: CcState, payload: string): MarketEvent[] => decodeCryptoCompare(ev(payload), s);

describe('CryptoCompare adapter (spec shapes only: no real capture exists)', () => {
  it('reads the spec\'s trade: a venue of its own, exact id, taker side from F, price and size from the number text, TS seconds', () => {
    expect(decode(newCcState(), SPEC_TRADE)).toEqual([{
      type: 'trade', exchange: 'cryptocompare:Coinbase', symbol: 'Coinbase~BTC~USD', recvNs: 1_593_768_261_000_000_000n, at: expect.anything() as never,
      tradeId: 12345678n, price: 32500.12, size: 0.01, side: 'buy', tsUs: 1_593_768_260_000_000,
    }]);
  });

  it('adds TSNS (ns) to TS where the market sends it; without it the time is the whole second', () => {
    const s = newCcState();
    expect(decode(s, trade({ id: 1, tsns: 123_456_789 }))).toMatchObject([{ tsUs: 1_593_768_260_123_456 }]);
    expect(decode(s, trade({ id: 2 }))).toMatchObject([{ tsUs: 1_593_768_260_000_000 }]);
    expect(decode(s, trade({ id: 3, tsns: 1_000_000_000 }))).toMatchObject([{ type: 'decode_error' }]);
  });

  it('F: &1 sell, &2 buy, 9 (sell + reversed) sell; &4 alone (unknown) is counted, not taken; 3 (both) is a decode error', () => {
    const s = newCcState();
    expect(decode(s, trade({ id: 1, f: '1' }))).toMatchObject([{ side: 'sell' }]);
    expect(decode(s, trade({ id: 2, f: '2' }))).toMatchObject([{ side: 'buy' }]);
    expect(decode(s, trade({ id: 3, f: '9' }))).toMatchObject([{ side: 'sell' }]);
    expect(decode(s, trade({ id: 4, f: '4' }))).toEqual([]);
    expect(s.counts.recognised['trade (side unknown)']).toBe(1);
    expect(decode(s, trade({ id: 5, f: '3' }))).toMatchObject([{ type: 'decode_error', reason: expect.stringContaining('both buy and sell') as never }]);
  });

  it('keeps ids past 2^53 exact; a non-integer id is trade id 0, still de-duplicated by its text', () => {
    const s = newCcState();
    expect(decode(s, trade({ id: '9007199254740993' }))).toMatchObject([{ tradeId: 9_007_199_254_740_993n }]);
    expect(decode(s, trade({ id: 'a1-b2' }))).toMatchObject([{ tradeId: 0n }]);
    expect(decode(s, trade({ id: 'a1-b2' }))).toEqual([]);
  });

  it('reads price and size from the frame\'s own digits', () => {
    expect(decode(newCcState(), trade({ id: 1, p: '0.000012345678', q: '123456789.12345678' }))).toMatchObject([{ price: 0.000012345678, size: 123456789.12345678 }]);
  });

  it('drops the 20 trades a resubscribe replays: a reconnect adds none', () => {
    const s = newCcState();
    const first = Array.from({ length: 30 }, (_, i) => trade({ id: 100 + i, seq: 500 + i }));
    const taken = first.flatMap((f) => decode(s, f));
    expect(taken.filter((m) => m.type === 'trade')).toHaveLength(30);
    decodeCryptoCompare(ev('', 'close'), s);
    const replay = first.slice(-20).flatMap((f) => decode(s, f));
    expect(replay).toEqual([]);
    expect(s.counts.duplicates).toBe(20);
    expect(decode(s, trade({ id: 130, seq: 530 }))).toMatchObject([{ type: 'trade', tradeId: 130n }]);
  });

  it('holds a subscription\'s replayed trades until its ack (one instant, like a snapshot); past 20, at LOADCOMPLETE or a close, gives them out', () => {
    const s = newCcState();
    decodeCryptoCompare(ev('{"action":"SubAdd","subs":["0~Kraken~BTC~USD","0~Coinbase~BTC~USD","30~Kraken~BTC~USD"]}', 'sent'), s);
    expect(decode(s, trade({ id: 1, seq: 1 }))).toEqual([]);
    expect(decode(s, trade({ id: 2, seq: 3 }))).toEqual([]);
    expect(decode(s, '{"TYPE":"16","MESSAGE":"SUBSCRIBECOMPLETE","SUB":"0~Kraken~BTC~USD"}').map((m) => m.type)).toEqual(['trade', 'gap', 'trade', 'status']);
    expect(decode(s, trade({ id: 3, seq: 4 })).map((m) => m.type), 'live after the ack').toEqual(['trade']);
    const coinbase = Array.from({ length: 21 }, (_, i) => decode(s, trade({ m: 'Coinbase', id: 100 + i })));
    expect(coinbase.slice(0, 20).flat()).toEqual([]);
    expect(coinbase[20]!.map((m) => m.type), 'the 21st is no replay: all 21 go out').toEqual(Array(21).fill('trade'));
    decodeCryptoCompare(ev('{"action":"SubAdd","subs":["0~Bitstamp~BTC~USD"]}', 'sent'), s);
    expect(decode(s, trade({ m: 'Bitstamp', id: 1 }))).toEqual([]);
    expect(decodeCryptoCompare(ev('', 'close'), s).map((m) => m.type)).toEqual(['trade']);
  });

  it('a CCSEQ jump is a gap of the missing numbers (before the trade); a late trade carrying the last one fills it', () => {
    const s = newCcState();
    decode(s, trade({ id: 1, seq: 10 }));
    expect(decode(s, trade({ id: 5, seq: 14 }))).toMatchObject([
      { type: 'gap', exchange: 'cryptocompare:Kraken', symbol: 'Kraken~BTC~USD', fromId: 11n, toId: 13n, reason: 'ccseq' }, { type: 'trade', tradeId: 5n },
    ]);
    decode(s, trade({ id: 2, seq: 11 }));
    decode(s, trade({ id: 3, seq: 12 }));
    expect(decode(s, trade({ id: 4, seq: 13 }))).toMatchObject([{ type: 'trade', tradeId: 4n }, { type: 'gap_filled', symbol: 'Kraken~BTC~USD' }]);
    // A market without CCSEQ shows no gaps whatever its ids do.
    expect(decode(s, trade({ m: 'Bitstamp', id: 1 })).map((m) => m.type)).toEqual(['trade']);
    expect(decode(s, trade({ m: 'Bitstamp', id: 90 })).map((m) => m.type)).toEqual(['trade']);
  });

  it('turns every control frame into a status event, never a decode error', () => {
    const s = newCcState();
    const frames: [string, string][] = [
      ['{"TYPE":"20","MESSAGE":"STREAMERWELCOME","SERVER_UPTIME_SECONDS":6,"SERVER_NAME":"ccc-streamer01","SERVER_TIME_MS":1593768260252,"CLIENT_ID":5509,"DATA_FORMAT":"JSON"}', 'system'],
      ['{"TYPE":"16","MESSAGE":"SUBSCRIBECOMPLETE","SUB":"0~Coinbase~ETH~BTC"}', 'subscribed'],
      ['{"TYPE":"3","MESSAGE":"LOADCOMPLETE","INFO":"All your valid subs have been loaded."}', 'system'],
      ['{"TYPE":"999","MESSAGE":"HEARTBEAT","TIMEMS":1582817678330}', 'heartbeat'],
      ['{"TYPE":"401","MESSAGE":"UNAUTHORIZED","PARAMETER":"format","INFO":"We only support JSON format with a valid api_key."}', 'error'],
      ['{"TYPE":"429","MESSAGE":"TOO_MANY_SOCKETS_MAX_1_PER_CLIENT","INFO":"…"}', 'error'],
      ['{"TYPE":"500","MESSAGE":"INVALID_SUB","PARAMETER":"0~Nowhere~BTC~USD","INFO":"…"}', 'error'],
      ['{"TYPE":"500","MESSAGE":"FORCE_DISCONNECT","INFO":"…"}', 'shutdown'],
    ];
    for (const [f, status] of frames) expect(decode(s, f), f).toMatchObject([{ type: 'status', status }]);
    expect(decode(s, '{"TYPE":"17","MESSAGE":"UNSUBSCRIBECOMPLETE","SUB":"0~Coinbase~ETH~BTC"}')).toEqual([]);
    expect(decode(s, '{"TYPE":"4242"}')).toEqual([]);
    expect(s.counts).toMatchObject({ errors: 0, unknown: { 'TYPE 4242': 1 }, recognised: { 'unsubscribe complete': 1 } });
  });

  it('top of book: both sides first, then one side at a time, each a quote of the venue', () => {
    const s = newCcState();
    expect(decode(s, '{"TYPE":"30","M":"Binance","FSYM":"BTC","TSYM":"USDT","CCSEQ":5550001,"BID":[{"P":32499.5,"Q":0.42,"REPORTEDNS":"1593768260123456789"}]}')).toEqual([]);
    expect(decode(s, '{"TYPE":"30","M":"Binance","FSYM":"BTC","TSYM":"USDT","CCSEQ":5550002,"ASK":[{"P":32500.5,"Q":1.5,"REPORTEDNS":"1593768260223456789"}]}')).toMatchObject([
      { type: 'quote', exchange: 'cryptocompare:Binance', symbol: 'Binance~BTC~USDT', bid: 32499.5, bidSize: 0.42, ask: 32500.5, askSize: 1.5, tsUs: 1_593_768_260_223_456 },
    ]);
  });

  it('names each market a venue: canonical asset, fees of the exchange of its name', () => {
    const opts = { usdtAsUsd: true, mapping: {} };
    expect(canonicalAsset('cryptocompare:Kraken', 'Kraken~BTC~USD', opts)).toBe('BTC/USD');
    expect(canonicalAsset('cryptocompare:Binance', 'Binance~BTC~USDT', opts)).toBe('BTC/USD');
    expect(canonicalAsset('cryptocompare', 'Kraken~BTC~USD', opts)).toBe('BTC/USD');
    expect(canonicalAsset('cryptocompare:Kraken', 'Kraken~XBT~USD', { ...opts, mapping: { 'cryptocompare:Kraken~XBT~USD': 'BTC/USD' } })).toBe('BTC/USD');
    const fees = defaultFees('takerBps');
    expect(fees['cryptocompare:Kraken']).toBe(EXCHANGES.kraken.fees.takerBps);
    expect(fees['cryptocompare:Coinbase']).toBe(EXCHANGES.coinbase.fees.takerBps);
    expect(EXCHANGES.cryptocompare.symbols.ofFrame(SPEC_TRADE)).toBe('Coinbase~BTC~USD');
  });
});

describe('record\'s CryptoCompare choices', () => {
  const key = 'k/ey+1';
  it('sends BASE-QUOTE to every exchange and Market~BASE~QUOTE to CryptoCompare alone, with its key; the URL logged has the key masked', () => {
    const { symbols, choices } = venueChoices({ symbols: 'btc-usd,Kraken~BTC~USD,Binance~ETH~USDT', 'api-key': key }, ['binance', 'cryptocompare']);
    expect(symbols).toEqual(['BTC-USD']);
    expect(choices).toEqual({ binance: {}, cryptocompare: { native: ['Kraken~BTC~USD', 'Binance~ETH~USDT'], apiKey: key } });
    const v = venue('cryptocompare', symbols, { ws: 'ws://127.0.0.1:1/cryptocompare/v2', rest: 'http://127.0.0.1:1' }, choices.cryptocompare);
    expect(v.symbols).toEqual(['Kraken~BTC~USD', 'Binance~ETH~USDT']);
    expect(v.connections).toEqual([{
      url: `ws://127.0.0.1:1/cryptocompare/v2?api_key=${encodeURIComponent(key)}`,
      subscribe: ['{"action":"SubAdd","subs":["0~Kraken~BTC~USD","0~Binance~ETH~USDT","30~Kraken~BTC~USD","30~Binance~ETH~USDT"]}'],
    }]);
    expect(v.mask(v.connections[0]!.url)).toBe('ws://127.0.0.1:1/cryptocompare/v2?api_key=***');
    expect(v.mask(`error at ${key}`)).toBe('error at ***');
    expect(v.trades, 'no REST trade history').toBeUndefined();
  });

  it('without a Market~BASE~QUOTE entry, CryptoCompare records its markets of each BASE-QUOTE', () => {
    const { symbols, choices } = venueChoices({ symbols: 'BTC-USD', 'api-key': key }, ['cryptocompare']);
    expect(venue('cryptocompare', symbols, undefined, choices.cryptocompare).symbols).toEqual(['Coinbase~BTC~USD', 'Kraken~BTC~USD', 'Bitstamp~BTC~USD']);
  });
});

describe('CryptoCompare through the engine', () => {
  it('two markets of one socket make an arbitrage table, each venue with its own exchange\'s fee', () => {
    const rows: { table: string; row: Record<string, unknown> }[] = [];
    const sink: OutputSink = { emit: (table, row) => void rows.push({ table, row: row as unknown as Record<string, unknown> }) };
    const engine = new Engine(DEFAULT_CONFIG, sink);
    const book = (m: string, bid: number, ask: number): string =>
      `{"TYPE":"30","M":"${m}","FSYM":"BTC","TSYM":"USD","CCSEQ":1,"BID":[{"P":${bid},"Q":1,"REPORTEDNS":"1593768260000000000"}],"ASK":[{"P":${ask},"Q":1,"REPORTEDNS":"1593768260000000000"}]}`;
    engine.onLog(ev(book('Coinbase', 32_000, 32_001)));
    engine.onLog(ev(book('Kraken', 32_600, 32_601)));
    engine.finish();
    const starts = rows.filter((r) => r.table === 'arbitrage' && r.row.event === 'start').map((r) => r.row);
    expect(starts).toMatchObject([{ asset: 'BTC/USD', buy_exchange: 'cryptocompare:Coinbase', sell_exchange: 'cryptocompare:Kraken' }]);
    // Buy at Coinbase's ask paying Coinbase's fee, sell at Kraken's bid paying Kraken's.
    const [cb, kr] = [EXCHANGES.coinbase.fees.takerBps / 1e4, EXCHANGES.kraken.fees.takerBps / 1e4];
    expect(Number(starts[0]!.net_edge_bps)).toBeCloseTo(((32_600 * (1 - kr) - 32_001 * (1 + cb)) / 32_001) * 1e4, 9);
  });
});

describe('CryptoCompare markets keep their own event time', () => {
  it('a market\'s replayed trades, older than what another market already sent on the socket, are not late', () => {
    const rows: { table: string; row: Record<string, unknown> }[] = [];
    const engine = new Engine({ ...DEFAULT_CONFIG, intervalsMs: [1_000] }, { emit: (table, row) => void rows.push({ table, row: row as unknown as Record<string, unknown> }) });
    // Coinbase's subscribe replays trades up to now; Kraken's, next, replays trades 7 s old.
    engine.onLog(ev(trade({ m: 'Coinbase', id: 1, ts: 1593768260, tsns: 500_000_000 })));
    engine.onLog(ev(trade({ m: 'Kraken', id: 1, ts: 1593768253 })));
    engine.onLog(ev(trade({ m: 'Kraken', id: 2, ts: 1593768253 })));
    engine.finish();
    expect(engine.stats.late).toBe(0);
    const kraken = rows.filter((r) => r.table === 'candles' && r.row.exchange === 'cryptocompare:Kraken');
    expect(kraken.map((r) => Number(r.row.trades))).toEqual([2]);
  });
});

describe('CryptoCompare pairs keep their own event time, within a market too', () => {
  it('after a reconnect, one pair\'s replay running ahead of another\'s makes none of the other\'s missed trades late', () => {
    const rows: { table: string; row: Record<string, unknown> }[] = [];
    const engine = new Engine({ ...DEFAULT_CONFIG, intervalsMs: [1_000] }, { emit: (table, row) => void rows.push({ table, row: row as unknown as Record<string, unknown> }) });
    const eth = (id: number, tsns: number): string => trade({ m: 'Coinbase', id, ts: 1593768248, tsns }).replace('"FSYM":"BTC"', '"FSYM":"ETH"');
    engine.onLog(ev(eth(1, 100_000_000)));
    engine.onLog(ev(eth(2, 200_000_000)));
    engine.onLog(ev('', 'close'));
    // The new subscription: BTC's replay reaches 3.7 s past ETH's last trade, then ETH's replays 1 and 2 (repeats), 3 and 4 (missed).
    engine.onLog(ev(trade({ m: 'Coinbase', id: 9, ts: 1593768251, tsns: 700_000_000 })));
    for (const [id, ns] of [[1, 100_000_000], [2, 200_000_000], [3, 700_000_000], [4, 900_000_000]] as const) engine.onLog(ev(eth(id, ns)));
    engine.finish();
    expect(engine.stats.late).toBe(0);
    const ethCandles = rows.filter((r) => r.table === 'candles' && r.row.symbol === 'Coinbase~ETH~USD');
    expect(ethCandles.map((r) => [Number(r.row.trades), r.row.first_trade_id, r.row.last_trade_id])).toEqual([[4, 1n, 4n]]);
  });
});

describe('CryptoCompare de-duplication and gap detection, property', () => {
  it('never drop a distinct trade: whatever replays, reconnects and CCSEQ jumps, each distinct (M, ID) is taken exactly once, and every missing CCSEQ is in a gap', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ m: fc.constantFrom('Coinbase', 'Kraken'), skip: fc.integer({ min: 0, max: 3 }), replay: fc.integer({ min: 0, max: 25 }), close: fc.boolean() }), { minLength: 1, maxLength: 120 }),
      (steps) => {
        const s = newCcState();
        const sent = new Map<string, { id: number; seq: number }[]>([['Coinbase', []], ['Kraken', []]]);
        const next = new Map([['Coinbase', { id: 1, seq: 1 }], ['Kraken', { id: 1, seq: 1 }]]);
        const out: MarketEvent[] = [];
        const skipped = new Map<string, Set<number>>([['Coinbase', new Set()], ['Kraken', new Set()]]);
        for (const st of steps) {
          if (st.close) out.push(...decodeCryptoCompare(ev('', 'close'), s));
          // A resubscribe replays up to 20 of the market's latest trades.
          for (const t of sent.get(st.m)!.slice(-Math.min(20, st.replay))) out.push(...decode(s, trade({ m: st.m, id: t.id, seq: t.seq })));
          const n = next.get(st.m)!;
          // Numbers skipped before a market's first trade are unknowable: no gap can name them.
          for (let k = 0; k < st.skip; k++) if (sent.get(st.m)!.length > 0) skipped.get(st.m)!.add(n.seq++);
          const t = { id: n.id++, seq: n.seq++ };
          sent.get(st.m)!.push(t);
          out.push(...decode(s, trade({ m: st.m, id: t.id, seq: t.seq })));
        }
        for (const m of ['Coinbase', 'Kraken']) {
          const ids = out.filter((e): e is Trade => e.type === 'trade' && e.symbol === `${m}~BTC~USD`).map((e) => Number(e.tradeId));
          expect(ids).toEqual(sent.get(m)!.map((t) => t.id));
          const inGaps = new Set(out.filter((e) => e.type === 'gap' && e.symbol === `${m}~BTC~USD`).flatMap((g) => {
            const gap = g as Extract<MarketEvent, { type: 'gap' }>;
            return Array.from({ length: Number(gap.toId - gap.fromId + 1n) }, (_, i) => Number(gap.fromId) + i);
          }));
          expect(inGaps).toEqual(skipped.get(m));
        }
      },
    ), { numRuns: 200 });
  });
});
