/**
 * The façade's REST (issue 13 §3), from the recording alone, in Binance's and Coinbase's own
 * shapes and error shapes: market metadata, the book at the replay's present (the recorded
 * snapshot brought forward by the recorded diffs), candles equal to `tapedeck replay`'s,
 * and the newest trades. Each test first plays its slice to the end, so the present is the
 * slice's end.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { nsToIso } from '../../src/log/time.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { REAL, readReplayOrder, runCli, tmpDir } from '../helpers.ts';
import { archiveFrames, client, importBtc, importCoinbase } from './facade-helpers.ts';

type Level = [string, string];

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.json() };
}

describe.skipIf(!REAL)('façade REST', () => {
  const dir = tmpDir();
  let btc: string;
  let frames: { payload: string; recvNs: bigint }[];
  let endNs: bigint;
  let sim: Simulator;
  const get = (p: string) => getJson(`${sim.restUrl('binance')}${p}`);

  beforeAll(async () => {
    btc = importBtc(dir);
    frames = await archiveFrames(btc);
    endNs = frames[0]!.recvNs + 150_000_000_000n;
    sim = await startSimulator({ exchanges: ['binance'], seed: 1, from: btc, speed: 100, slice: { end: { atNs: endNs } } });
    const c = client(`${sim.wsUrl('binance')}/stream?streams=btcusdt@trade/btcusdt@depth@100ms`);
    expect(await c.closed, 'the slice played to its end').toEqual({ code: 1000, reason: 'end of recording' });
  }, 120_000);
  afterAll(async () => sim?.close());

  const slice = (): { payload: string; recvNs: bigint }[] => frames.filter((f) => f.recvNs < endNs);

  it('exchangeInfo lists the recording\'s market with the steps its prices and sizes show; futures lists are empty', async () => {
    const info = await get('/api/v3/exchangeInfo');
    expect(info.status).toBe(200);
    const s = (info.body as { symbols: { symbol: string; baseAsset: string; quoteAsset: string; filters: { filterType: string; tickSize?: string }[] }[] }).symbols;
    expect(s.map((x) => [x.symbol, x.baseAsset, x.quoteAsset])).toEqual([['BTCUSDT', 'BTC', 'USDT']]);
    expect(s[0]!.filters.find((f) => f.filterType === 'PRICE_FILTER')!.tickSize).toBe('0.01000000');
    expect(((await get('/fapi/v1/exchangeInfo')).body as { symbols: unknown[] }).symbols).toEqual([]);
  });

  it('depth is the recorded snapshot brought to the present by every recorded update after it', async () => {
    // hftbacktest keeps the REST depth snapshot as a `rest` event.
    const rest = (await readReplayOrder(btc)).find((e) => e.kind === 'rest' && e.payload.startsWith('{"lastUpdateId"'))!;
    const snapshot = JSON.parse(rest.payload) as { lastUpdateId: number; bids: Level[]; asks: Level[] };
    const bids = new Map(snapshot.bids);
    const asks = new Map(snapshot.asks);
    let id = snapshot.lastUpdateId;
    for (const f of slice()) {
      if (!f.payload.startsWith('{"stream":"btcusdt@depth')) continue;
      const d = (JSON.parse(f.payload) as { data: { u: number; b: Level[]; a: Level[] } }).data;
      if (d.u <= id) continue;
      for (const [p, q] of d.b) if (Number(q) === 0) bids.delete(p); else bids.set(p, q);
      for (const [p, q] of d.a) if (Number(q) === 0) asks.delete(p); else asks.set(p, q);
      id = d.u;
    }
    const r = await get('/api/v3/depth?symbol=BTCUSDT&limit=20');
    const book = r.body as { lastUpdateId: number; bids: Level[]; asks: Level[] };
    expect(book.lastUpdateId, 'the last update of the slice').toBe(id);
    expect(book.bids).toEqual([...bids].sort((a, b) => Number(b[0]) - Number(a[0])).slice(0, 20));
    expect(book.asks).toEqual([...asks].sort((a, b) => Number(a[0]) - Number(b[0])).slice(0, 20));
    expect(Number(book.bids[0]![0]), 'an uncrossed book').toBeLessThan(Number(book.asks[0]![0]));
  });

  it('klines equal the candles `tapedeck replay` writes for the same slice', async () => {
    const out = path.join(dir, 'out');
    const rep = runCli(['replay', '--from', btc, '--end', nsToIso(endNs), '--windows', '1m', '--out', out]);
    expect(rep.code, rep.stderr).toBe(0);
    const candles = (await readParquet(path.join(out, 'candles.parquet'))).filter((c) => c.interval === '1m');
    const k = (await get('/api/v3/klines?symbol=BTCUSDT&interval=1m')).body as (string | number)[][];
    expect(k.length).toBeGreaterThanOrEqual(3);
    expect(k.map((r) => [r[0], Number(r[1]), Number(r[2]), Number(r[3]), Number(r[4]), Number(r[5]), r[8]]))
      .toEqual(candles.map((c) => [Number(c.window_start), c.open, c.high, c.low, c.close, c.volume, c.trades]));
  });

  it('aggTrades without fromId are the newest, as on Binance; ticker/24hr ends at the last trade', async () => {
    const trades = slice().filter((f) => f.payload.startsWith('{"stream":"btcusdt@trade"')).map((f) => (JSON.parse(f.payload) as { data: { t: number; p: string } }).data);
    const agg = (await get('/api/v3/aggTrades?symbol=BTCUSDT&limit=3')).body as { a: number }[];
    expect(agg.map((a) => a.a)).toEqual(trades.slice(-3).map((t) => t.t));
    const tick = (await get('/api/v3/ticker/24hr?symbol=BTCUSDT')).body as { lastId: number; lastPrice: string; count: number };
    expect([tick.lastId, tick.lastPrice, tick.count]).toEqual([trades.at(-1)!.t, trades.at(-1)!.p, trades.length]);
  });

  it('answers bad requests in Binance\'s error shape', async () => {
    expect(await get('/api/v3/depth?symbol=ETHUSDT')).toEqual({ status: 400, body: { code: -1121, msg: 'Invalid symbol.' } });
    expect(await get('/api/v3/klines?symbol=BTCUSDT&interval=7m')).toEqual({ status: 400, body: { code: -1120, msg: 'Invalid interval.' } });
    expect((await get('/api/v3/klines?interval=1m')).body).toMatchObject({ code: -1102 });
  });
});

describe.skipIf(!REAL)('façade REST, Coinbase', () => {
  const dir = tmpDir();
  let coinbase: string;
  let sim: Simulator;
  const get = (p: string) => getJson(`${sim.restUrl('coinbase')}${p}`);

  beforeAll(async () => {
    coinbase = importCoinbase(dir);
    sim = await startSimulator({ exchanges: ['coinbase'], seed: 1, from: coinbase, speed: 50 });
    const c = client(sim.wsUrl('coinbase'));
    await c.opened;
    c.ws.send('{"type":"subscribe","product_ids":["DASH-BTC"],"channels":["matches","level2"]}');
    expect(await c.closed, 'the recording played to its end').toEqual({ code: 1000, reason: 'end of recording' });
  }, 120_000);
  afterAll(async () => sim?.close());

  it('/products and /currencies list the recording\'s markets with the increments its decimals show', async () => {
    const products = (await get('/products')).body as { id: string; base_currency: string; quote_currency: string; quote_increment: string }[];
    expect(products.map((p) => p.id)).toEqual(['BAND-BTC', 'BAND-GBP', 'CRV-EUR', 'DASH-BTC', 'NMR-EUR', 'NU-GBP', 'SKL-BTC', 'SKL-GBP', 'SKL-USD', 'YFI-BTC']);
    expect(products.find((p) => p.id === 'DASH-BTC')).toMatchObject({ base_currency: 'DASH', quote_currency: 'BTC', quote_increment: '0.00000001' });
    const currencies = (await get('/currencies')).body as { id: string }[];
    expect(currencies.map((c) => c.id)).toEqual(['BAND', 'BTC', 'CRV', 'DASH', 'EUR', 'GBP', 'NMR', 'NU', 'SKL', 'USD', 'YFI']);
  });

  it('the book is the recorded snapshot with every recorded update up to the present', async () => {
    const bids = new Map<string, string>();
    const asks = new Map<string, string>();
    for (const f of await archiveFrames(coinbase)) {
      if (!f.payload.includes('"product_id":"DASH-BTC"')) continue;
      const m = JSON.parse(f.payload) as { type: string; bids?: Level[]; asks?: Level[]; changes?: [string, string, string][] };
      if (m.type === 'snapshot') for (const [side, levels] of [[bids, m.bids!], [asks, m.asks!]] as const) for (const [p, q] of levels) side.set(p, q);
      for (const [s, p, q] of m.changes ?? []) {
        const side = s === 'buy' ? bids : asks;
        if (Number(q) === 0) side.delete(p); else side.set(p, q);
      }
    }
    const book = (await get('/products/DASH-BTC/book?level=2')).body as { bids: [string, string, number][]; asks: [string, string, number][] };
    expect(book.bids.map(([p, q]) => [p, q])).toEqual([...bids].sort((a, b) => Number(b[0]) - Number(a[0])).slice(0, 50));
    expect(book.asks.map(([p, q]) => [p, q])).toEqual([...asks].sort((a, b) => Number(a[0]) - Number(b[0])).slice(0, 50));
  });

  it('candles equal `tapedeck replay`\'s; errors in Coinbase\'s shape', async () => {
    const out = path.join(dir, 'out');
    const rep = runCli(['replay', '--from', coinbase, '--windows', '1m', '--out', out]);
    expect(rep.code, rep.stderr).toBe(0);
    const want = (await readParquet(path.join(out, 'candles.parquet'))).filter((c) => c.symbol === 'DASH-BTC' && c.interval === '1m')
      .map((c) => [Number(c.window_start) / 1000, c.low, c.high, c.open, c.close, c.volume]).reverse();
    expect(want.length).toBeGreaterThan(0);
    expect((await get('/products/DASH-BTC/candles?granularity=60')).body, 'newest first').toEqual(want);
    expect(await get('/products/BTC-USD/book')).toEqual({ status: 404, body: { message: 'NotFound' } });
    expect(await get('/products/DASH-BTC/candles?granularity=61')).toEqual({ status: 400, body: { message: 'Unsupported granularity' } });
  });
});
