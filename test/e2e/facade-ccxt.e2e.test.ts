/**
 * ccxt (pinned, unmodified; only its URLs point at the façade) against the real BTCUSDT
 * recording and the real Coinbase recording (issue 13, acceptance): loadMarkets,
 * watchTrades (the first trade received is the recording's first; every trade equal to the
 * archive's, in order, none missing, at 1x and at 20x), watchBidsAsks, watchOrderBook (the
 * book equal to one rebuilt from the recording at its nonce), fetchTicker, fetchTrades,
 * fetchOHLCV (equal to `tapedeck replay`'s candles).
 *
 * ccxt refuses plain ws:// until `loadHttpProxyAgent()` is called (its own public method);
 * Coinbase's level2 channel needs credentials in ccxt, which signs the subscribe: dummy ones
 * do, since the façade, like the recording, has no accounts.
 */
import path from 'node:path';
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Slice } from '../../replayer/simulator/archive-feed.ts';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { nsToIso } from '../../src/log/time.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { REAL, readReplayOrder, runCli, tmpDir } from '../helpers.ts';
import { archiveFrames, importBtc, importCoinbase } from './facade-helpers.ts';

type Level = [string, string];
interface BinanceTrade { t: number; p: string; q: string; m: boolean }
type Pro = InstanceType<typeof ccxt.pro.binance>;

/** Calls `watch` until `n` items have come (ccxt returns what is new since the last call). */
async function collect<T>(watch: () => Promise<T[]>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) out.push(...await watch());
  return out;
}

describe.skipIf(!REAL)('ccxt against the façade', () => {
  const dir = tmpDir();
  let btc: string;
  let coinbase: string;
  let frames: { payload: string; recvNs: bigint }[];
  const sims: Simulator[] = [];
  const clients: { close(): Promise<unknown> }[] = [];

  beforeAll(async () => {
    btc = importBtc(dir);
    coinbase = importCoinbase(dir);
    frames = await archiveFrames(btc);
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) await c.close();
    for (const s of sims) await s.close();
  });

  async function binance(speed: number, sliceMs: number): Promise<{ ex: Pro; sim: Simulator; endNs: bigint }> {
    const endNs = frames[0]!.recvNs + BigInt(sliceMs) * 1_000_000n;
    const sim = await startSimulator({ exchanges: ['binance'], seed: 1, from: btc, speed, slice: { end: { atNs: endNs } } });
    sims.push(sim);
    const rest = sim.restUrl('binance');
    const ex = new ccxt.pro.binance({ urls: { api: { public: `${rest}/api/v3`, fapiPublic: `${rest}/fapi/v1`, dapiPublic: `${rest}/dapi/v1`, ws: { spot: `${sim.wsUrl('binance')}/ws` } } } } as never);
    clients.push(ex);
    await ex.loadHttpProxyAgent();
    return { ex, sim, endNs };
  }

  /** ccxt's Coinbase client against a façade re-serving the Coinbase recording (ccxt signs level2 subscriptions: dummy keys). */
  async function coinbaseClient(speed: number, slice?: Slice): Promise<InstanceType<typeof ccxt.pro.coinbaseexchange>> {
    const sim = await startSimulator({ exchanges: ['coinbase'], seed: 1, from: coinbase, speed, ...(slice ? { slice } : {}) });
    sims.push(sim);
    const rest = sim.restUrl('coinbase');
    const ex = new ccxt.pro.coinbaseexchange({
      urls: { api: { public: rest, private: rest, ws: sim.wsUrl('coinbase') } },
      apiKey: 'none', secret: Buffer.from('none').toString('base64'), password: 'none',
    } as never);
    clients.push(ex);
    await ex.loadHttpProxyAgent();
    return ex;
  }

  const tradesUntil = (endNs: bigint): BinanceTrade[] => frames.filter((f) => f.recvNs < endNs && f.payload.startsWith('{"stream":"btcusdt@trade"'))
    .map((f) => (JSON.parse(f.payload) as { data: BinanceTrade }).data);
  const asCcxt = (t: BinanceTrade): unknown[] => [String(t.t), Number(t.p), Number(t.q), t.m ? 'sell' : 'buy'];

  for (const [speed, sliceMs] of [[1, 3_000], [20, 40_000]] as const) {
    it(`watchTrades at ${speed}x: every trade of the slice, from the recording's first, in order`, async () => {
      const { ex, endNs } = await binance(speed, sliceMs);
      const want = tradesUntil(endNs);
      expect(want.length).toBeGreaterThan(50);
      const got = await collect(() => ex.watchTrades('BTC/USDT'), want.length);
      expect(got[0]!.id, 'the first trade received is the recording\'s first').toBe(String(want[0]!.t));
      expect(got.map((t) => [t.id, t.price, t.amount, t.side]), 'ids, prices, sizes and sides, none missing').toEqual(want.map(asCcxt));
    }, 60_000);
  }

  it('loadMarkets, watchBidsAsks, watchOrderBook, fetchTicker, fetchTrades and fetchOHLCV', async () => {
    const { ex, endNs } = await binance(20, 100_000);
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets)).toEqual(['BTC/USDT']);
    expect(markets['BTC/USDT']!.precision).toMatchObject({ price: 0.01 });

    const best = (JSON.parse(frames.find((f) => f.payload.startsWith('{"stream":"btcusdt@bookTicker"'))!.payload) as { data: { b: string; B: string; a: string; A: string } }).data;
    const ba = (await ex.watchBidsAsks(['BTC/USDT']))['BTC/USDT']!;
    expect([ba.bid, ba.bidVolume, ba.ask, ba.askVolume], 'the recording\'s first best bid/offer').toEqual([best.b, best.B, best.a, best.A].map(Number));

    const snapshot = await depthSnapshot(btc);
    const ob = await ex.watchOrderBook('BTC/USDT');
    // ccxt's book is live: read it before anything else awaits.
    const [nonce, bids, asks] = [ob.nonce as number, ob.bids.slice(0, 10), ob.asks.slice(0, 10)];
    const want = rebuild(snapshot, frames, nonce);
    expect(bids, `the book at update ${nonce}, rebuilt from the recording`).toEqual(want.bids.slice(0, 10));
    expect(asks).toEqual(want.asks.slice(0, 10));

    const all = tradesUntil(endNs);
    await collect(() => ex.watchTrades('BTC/USDT'), all.length); // the present reaches the slice's last trade
    const ticker = await ex.fetchTicker('BTC/USDT');
    expect([ticker.last, ticker.info.lastId], 'fetchTicker ends at the last trade played').toEqual([Number(all.at(-1)!.p), all.at(-1)!.t]);
    const fetched = await ex.fetchTrades('BTC/USDT');
    expect(fetched.map((t) => [t.id, t.price, t.amount, t.side]), 'the newest 500, as Binance serves them').toEqual(all.slice(-500).map(asCcxt));

    const out = path.join(dir, 'out');
    const rep = runCli(['replay', '--from', btc, '--end', nsToIso(endNs), '--windows', '1m', '--out', out]);
    expect(rep.code, rep.stderr).toBe(0);
    const candles = (await readParquet(path.join(out, 'candles.parquet'))).filter((c) => c.interval === '1m');
    expect(await ex.fetchOHLCV('BTC/USDT', '1m'), 'tapedeck\'s candles')
      .toEqual(candles.map((c) => [Number(c.window_start), c.open, c.high, c.low, c.close, c.volume]));
  }, 60_000);

  for (const [speed, sliceMs] of [[1, 6_000], [20, 60_000]] as const) {
    it(`Coinbase watchTrades at ${speed}x: every match of the slice's busiest product, from the recording's first, in order`, async () => {
      const all = await archiveFrames(coinbase);
      const endNs = all[0]!.recvNs + BigInt(sliceMs) * 1_000_000n;
      const matches = all.filter((f) => f.recvNs < endNs && f.payload.startsWith('{"type":"match"'))
        .map((f) => JSON.parse(f.payload) as { product_id: string; trade_id: number; price: string; size: string; side: string });
      const count = new Map<string, number>();
      for (const m of matches) count.set(m.product_id, (count.get(m.product_id) ?? 0) + 1);
      const [product, n] = [...count].sort((a, b) => b[1] - a[1])[0]!;
      expect(n).toBeGreaterThan(1);
      const ex = await coinbaseClient(speed, { end: { atNs: endNs } });
      await ex.loadMarkets();
      const symbol = product.replace('-', '/');
      const got = await collect(() => ex.watchTrades(symbol), n);
      expect(got.map((t) => [t.id, t.price, t.amount, t.side]))
        .toEqual(matches.filter((m) => m.product_id === product).map((m) => [String(m.trade_id), Number(m.price), Number(m.size), m.side === 'buy' ? 'sell' : 'buy']));
    }, 60_000);
  }

  it('Coinbase: loadMarkets, watchTrades, watchOrderBook, fetchTicker, fetchTrades, fetchOHLCV', async () => {
    const ex = await coinbaseClient(5);
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets)).toHaveLength(10);
    expect(markets['DASH/BTC']!.precision).toMatchObject({ price: 1e-8 });

    const books = coinbaseBooks((await archiveFrames(coinbase)).map((f) => f.payload), 'DASH-BTC');
    const ob = await ex.watchOrderBook('DASH/BTC');
    // ccxt's book is live: read it before anything else awaits. It must be the recorded book after some prefix of the updates.
    const seen = JSON.stringify([ob.bids.slice(0, 5), ob.asks.slice(0, 5)]);
    expect(books.includes(seen), `${seen} is the recorded snapshot with a prefix of the recorded updates`).toBe(true);

    const matches = (await archiveFrames(coinbase)).map((f) => f.payload).filter((p) => p.startsWith('{"type":"match"') && p.includes('"DASH-BTC"'))
      .map((p) => JSON.parse(p) as { trade_id: number; price: string; size: string; side: string });
    const got = await collect(() => ex.watchTrades('DASH/BTC'), matches.length);
    // ccxt reads `match` frames; `side` there is the maker's, ccxt reports the taker's.
    expect(got.map((t) => [t.id, t.price, t.amount, t.side]), 'the recording\'s matches from its first, exact decimals')
      .toEqual(matches.map((m) => [String(m.trade_id), Number(m.price), Number(m.size), m.side === 'buy' ? 'sell' : 'buy']));

    const ticker = await ex.fetchTicker('DASH/BTC');
    expect([ticker.last, ticker.info.trade_id], 'fetchTicker: the last match').toEqual([Number(matches.at(-1)!.price), matches.at(-1)!.trade_id]);
    const fetched = await ex.fetchTrades('DASH/BTC');
    expect(fetched.map((t) => t.id).sort()).toEqual(expect.arrayContaining(matches.map((m) => String(m.trade_id))));
    const ohlcv = await ex.fetchOHLCV('DASH/BTC', '1m');
    const out = path.join(dir, 'cb-out');
    expect(runCli(['replay', '--from', coinbase, '--windows', '1m', '--out', out]).code).toBe(0);
    const candles = (await readParquet(path.join(out, 'candles.parquet'))).filter((c) => c.symbol === 'DASH-BTC' && c.interval === '1m');
    expect(ohlcv, 'tapedeck\'s candles').toEqual(candles.map((c) => [Number(c.window_start), c.open, c.high, c.low, c.close, c.volume]));
  }, 60_000);
});

/** The recording's REST depth snapshot (hftbacktest keeps it as a `rest` event). */
async function depthSnapshot(archive: string): Promise<{ lastUpdateId: number; bids: Level[]; asks: Level[] }> {
  return JSON.parse((await readReplayOrder(archive)).find((e) => e.kind === 'rest' && e.payload.startsWith('{"lastUpdateId"'))!.payload) as never;
}

/** The book after every recorded depth update from the snapshot's id up to update `nonce`, as numbers (ccxt's form). */
function rebuild(s: { lastUpdateId: number; bids: Level[]; asks: Level[] }, frames: readonly { payload: string }[], nonce: number): { bids: number[][]; asks: number[][] } {
  const bids = new Map(s.bids);
  const asks = new Map(s.asks);
  for (const f of frames) {
    if (!f.payload.startsWith('{"stream":"btcusdt@depth')) continue;
    const d = (JSON.parse(f.payload) as { data: { u: number; b: Level[]; a: Level[] } }).data;
    if (d.u <= s.lastUpdateId) continue;
    if (d.u > nonce) break;
    for (const [side, levels] of [[bids, d.b], [asks, d.a]] as const) {
      for (const [p, q] of levels) {
        if (Number(q) === 0) side.delete(p);
        else side.set(p, q);
      }
    }
  }
  const sorted = (m: Map<string, string>, sign: number): number[][] => [...m].map(([p, q]) => [Number(p), Number(q)]).sort((a, b) => sign * (a[0]! - b[0]!));
  return { bids: sorted(bids, -1), asks: sorted(asks, 1) };
}

/** The product's top 5 levels (as ccxt numbers) after its recorded snapshot and after each recorded update, as JSON. */
function coinbaseBooks(payloads: readonly string[], product: string): string[] {
  const bids = new Map<string, string>();
  const asks = new Map<string, string>();
  const top = (m: Map<string, string>, sign: number): number[][] => [...m].map(([p, q]) => [Number(p), Number(q)]).sort((a, b) => sign * (a[0]! - b[0]!)).slice(0, 5);
  const out: string[] = [];
  for (const p of payloads) {
    if (!p.includes(`"product_id":"${product}"`)) continue;
    const m = JSON.parse(p) as { type: string; bids?: Level[]; asks?: Level[]; changes?: [string, string, string][] };
    if (m.type === 'snapshot') for (const [side, levels] of [[bids, m.bids!], [asks, m.asks!]] as const) for (const [pr, q] of levels) side.set(pr, q);
    else if (m.type !== 'l2update') continue;
    for (const [s, pr, q] of m.changes ?? []) {
      const side = s === 'buy' ? bids : asks;
      if (Number(q) === 0) side.delete(pr);
      else side.set(pr, q);
    }
    out.push(JSON.stringify([top(bids, -1), top(asks, 1)]));
  }
  return out;
}
