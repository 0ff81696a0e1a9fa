/**
 * The façade's playback (issue 13 §1, §2, §6): a stream plays from the chosen slice's first
 * frame when its subscriber arrives, however long the server has been up, and every
 * subscriber gets it from the start; Coinbase level2 subscribers get the recorded snapshot.
 * What it serves is the recording's: frames byte for byte, REST trades with the recorded
 * decimals, made-up frames (heartbeats) at recorded time. Real recordings, real sockets on
 * loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { REAL, sleep, tmpDir } from '../helpers.ts';
import { archiveFrames, client, importBtc, importCoinbase } from './facade-helpers.ts';

const data = (combined: string): string => /^\{"stream":"[^"]+","data":([\s\S]*)\}$/.exec(combined)![1]!;

describe.skipIf(!REAL)('façade playback', () => {
  const dir = tmpDir();
  let btc: string;
  let coinbase: string;
  const sims: Simulator[] = [];

  beforeAll(() => {
    btc = importBtc(dir);
    coinbase = importCoinbase(dir);
  }, 120_000);
  afterAll(async () => {
    for (const s of sims) await s.close();
  });

  async function serve(archive: string, exchanges: string[], speed: number, slice = {}): Promise<Simulator> {
    const s = await startSimulator({ exchanges, seed: 1, from: archive, speed, slice });
    sims.push(s);
    return s;
  }

  it('a subscriber who comes late still gets every trade from the recording\'s first, and so does a second one', async () => {
    const frames = await archiveFrames(btc);
    const t0 = frames[0]!.recvNs;
    const want = frames.filter((f) => f.recvNs < t0 + 10_000_000_000n && f.payload.startsWith('{"stream":"btcusdt@trade"')).map((f) => data(f.payload));
    expect(want.length, 'the first 10 s hold trades').toBeGreaterThan(100);
    const sim = await serve(btc, ['binance'], 20, { end: { afterMs: 10_000 } });
    await sleep(1_000); // 20 s of recording at 20x: the old façade dropped them all
    const a = client(`${sim.wsUrl('binance')}/ws/btcusdt@trade`);
    await a.until((f) => f.length >= want.length / 2);
    const b = client(`${sim.wsUrl('binance')}/ws/btcusdt@trade`);
    await a.until((f) => f.length >= want.length);
    await b.until((f) => f.length >= want.length);
    expect(a.frames[0], 'the first trade received is the recording\'s first').toBe(want[0]);
    expect(a.frames, 'every trade of the slice, exact bytes, in order').toEqual(want);
    expect(b.frames, 'a later subscriber gets the stream from the start too').toEqual(want);
    a.ws.close();
    b.ws.close();
  });

  it('--start chooses where the slice begins; a runtime SUBSCRIBE plays from there', async () => {
    const frames = await archiveFrames(btc);
    const start = frames[0]!.recvNs + 30_000_000_000n;
    const want = frames.filter((f) => f.recvNs >= start && f.recvNs < start + 5_000_000_000n && f.payload.startsWith('{"stream":"btcusdt@bookTicker"'));
    const sim = await serve(btc, ['binance'], 20, { start: { atNs: start }, end: { atNs: start + 5_000_000_000n } });
    const c = client(`${sim.wsUrl('binance')}/stream`);
    await c.opened;
    c.ws.send('{"method":"SUBSCRIBE","params":["btcusdt@bookTicker"],"id":1}');
    await c.until((f) => f.length >= want.length + 1);
    expect(c.frames[0]).toBe('{"result":null,"id":1}');
    expect(c.frames.slice(1), 'combined frames as recorded, from --start').toEqual(want.map((f) => f.payload));
    c.ws.close();
  });

  it('Coinbase level2 subscribers get the recorded snapshot first, then its updates', async () => {
    const frames = (await archiveFrames(coinbase)).filter((f) => f.payload.includes('"product_id":"DASH-BTC"'));
    const l2 = frames.filter((f) => /"type":"(snapshot|l2update)"/.test(f.payload)).map((f) => f.payload);
    expect(l2[0], 'the recording opens its DASH-BTC book with a snapshot').toMatch(/^\{"type":"snapshot"/);
    const sim = await serve(coinbase, ['coinbase'], 20);
    await sleep(1_000);
    const c = client(sim.wsUrl('coinbase'));
    await c.opened;
    c.ws.send('{"type":"subscribe","product_ids":["DASH-BTC"],"channels":["level2"]}');
    await c.until((f) => f.length >= 1 + l2.length);
    expect(c.frames[0]).toMatch(/^\{"type":"subscriptions"/);
    expect(c.frames.slice(1), 'the snapshot, then every update, as recorded').toEqual(l2);
    c.ws.close();
  });

  it('serves Coinbase trades with their recorded decimals, on the feed and over REST, and heartbeats at recorded time', async () => {
    const matches = (await archiveFrames(coinbase)).map((f) => f.payload).filter((p) => /^\{"type":"(last_)?match".*"product_id":"DASH-BTC"/.test(p));
    expect(matches.some((p) => p.includes('"price":"0.00617818"')), 'the issue\'s example trade').toBe(true);
    const sim = await serve(coinbase, ['coinbase'], 20);
    const c = client(sim.wsUrl('coinbase'));
    await c.opened;
    c.ws.send('{"type":"subscribe","product_ids":["DASH-BTC"],"channels":["matches","heartbeat"]}');
    await c.until((f) => f.filter((p) => p.includes('match"')).length >= matches.length && f.some((p) => p.startsWith('{"type":"heartbeat"')));
    expect(c.frames.filter((p) => p.includes('match"')), 'matches byte for byte, last_match first').toEqual(matches);
    const beat = JSON.parse(c.frames.find((p) => p.startsWith('{"type":"heartbeat"'))!) as { time: string };
    expect(beat.time.slice(0, 10), 'a heartbeat carries the recording\'s time, not the wall clock\'s').toBe('2021-04-17');
    c.ws.close();

    const res = await fetch(`${sim.restUrl('coinbase')}/products/DASH-BTC/trades?limit=1000`);
    const rows = (await res.json()) as { trade_id: number; price: string; size: string }[];
    const want = new Map(matches.map((p) => {
      const m = JSON.parse(p) as { trade_id: number; price: string; size: string };
      return [m.trade_id, `${m.price} ${m.size}`];
    }));
    expect(rows.length, 'every trade played so far').toBe(want.size);
    for (const r of rows) expect(`${r.price} ${r.size}`, `trade ${r.trade_id}`).toBe(want.get(r.trade_id));
  });

  it('serves Binance REST trades with the recorded decimals', async () => {
    const trades = (await archiveFrames(btc)).filter((f) => f.payload.startsWith('{"stream":"btcusdt@trade"')).slice(0, 200)
      .map((f) => (JSON.parse(f.payload) as { data: { t: number; p: string; q: string } }).data);
    const sim = await serve(btc, ['binance'], 20);
    const c = client(`${sim.wsUrl('binance')}/ws/btcusdt@trade`);
    await c.until((f) => f.length >= 200);
    c.ws.close();
    const rows = (await (await fetch(`${sim.restUrl('binance')}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${trades[0]!.t}&limit=200`)).json()) as { id: number; price: string; qty: string }[];
    expect(rows.map((r) => [r.id, r.price, r.qty])).toEqual(trades.map((t) => [t.t, t.p, t.q]));
  });

  it('answers a stream the recording does not hold with the exchange\'s error or a close, never silence', async () => {
    const sim = await serve(btc, ['binance'], 20);
    const sub = client(`${sim.wsUrl('binance')}/ws`);
    await sub.opened;
    sub.ws.send('{"method":"SUBSCRIBE","params":["btcusdt@ticker"],"id":3}');
    await sub.until((f) => f.length >= 1);
    expect(JSON.parse(sub.frames[0]!), 'Binance\'s error shape, with the request\'s id').toEqual({ code: 2, msg: 'Invalid request: stream btcusdt@ticker is not in this recording', id: 3 });
    sub.ws.close();
    const url = client(`${sim.wsUrl('binance')}/stream?streams=btcusdt@trade/ethusdt@trade`);
    expect(await url.closed).toEqual({ code: 1008, reason: 'stream ethusdt@trade is not in this recording' });

    const cb = await serve(coinbase, ['coinbase'], 20);
    const c = client(cb.wsUrl('coinbase'));
    await c.opened;
    c.ws.send('{"type":"subscribe","product_ids":["DASH-BTC","BTC-USD"],"channels":["matches"]}');
    await c.until((f) => f.length >= 1);
    expect(JSON.parse(c.frames[0]!)).toEqual({ type: 'error', message: 'Failed to subscribe', reason: 'matches BTC-USD is not in this recording' });
    c.ws.close();
  });

  it('closes each socket at the end of the slice with a clear code and reason, after its last frame', async () => {
    const frames = await archiveFrames(btc);
    const t0 = frames[0]!.recvNs;
    const want = frames.filter((f) => f.recvNs < t0 + 3_000_000_000n && f.payload.startsWith('{"stream":"btcusdt@trade"')).map((f) => f.payload);
    const sim = await serve(btc, ['binance'], 20, { end: { afterMs: 3_000 } });
    const c = client(`${sim.wsUrl('binance')}/stream?streams=btcusdt@trade`);
    expect(await c.closed).toEqual({ code: 1000, reason: 'end of recording' });
    expect(c.frames, 'every frame of the slice came before the close').toEqual(want);
    const cb = await serve(coinbase, ['coinbase'], 20, { end: { afterMs: 2_000 } });
    const h = client(cb.wsUrl('coinbase'));
    await h.opened;
    h.ws.send('{"type":"subscribe","product_ids":["DASH-BTC"],"channels":["heartbeat"]}');
    expect(await h.closed, 'a heartbeat-only subscriber is told too').toEqual({ code: 1000, reason: 'end of recording' });
  });

  it('_control pauses, seeks, resumes and changes speed for every playback; bad input gets 400', async () => {
    const frames = await archiveFrames(btc);
    const sim = await serve(btc, ['binance'], 20);
    const control = async (body: unknown): Promise<number> => (await fetch(`http://${sim.host}:${sim.port}/_control`, { method: 'POST', body: JSON.stringify(body) })).status;
    const c = client(`${sim.wsUrl('binance')}/ws/btcusdt@trade`);
    await c.until((f) => f.length >= 10);
    expect(await control({ action: 'pause', exchange: 'binance' }), 'a stray exchange changes nothing').toBe(200);
    await sleep(200); // a frame already on its way may still land
    const held = c.frames.length;
    await sleep(500);
    expect(c.frames.length, 'nothing is served while paused').toBe(held);
    expect(await control({ action: 'seek', at: '60s' })).toBe(200);
    expect(await control({ action: 'speed', speed: 5 })).toBe(200);
    expect(await control({ action: 'resume' })).toBe(200);
    await c.until((f) => f.length > held);
    const at = frames[0]!.recvNs + 60_000_000_000n;
    const next = frames.find((f) => f.recvNs >= at && f.payload.startsWith('{"stream":"btcusdt@trade"'))!;
    expect(c.frames[held], 'after the seek, the first trade at or after 60 s').toBe(data(next.payload));
    c.ws.close();
    expect(await control({ action: 'speed', speed: 0 })).toBe(400);
    expect(await control({ action: 'speed', speed: 0.001 }), "below --speed's 0.01x: the same bound").toBe(400);
    expect(await control({ action: 'seek', at: 'yesterday-ish' })).toBe(400);
  });

  it('a Coinbase slice that starts after the recorded snapshot opens level2 with the book as it then stood', async () => {
    const frames = (await archiveFrames(coinbase)).filter((f) => f.payload.includes('"product_id":"DASH-BTC"'));
    const start = (await archiveFrames(coinbase))[0]!.recvNs + 10_000_000_000n;
    const bids = new Map<string, string>();
    const asks = new Map<string, string>();
    for (const f of frames.filter((x) => x.recvNs < start)) {
      const m = JSON.parse(f.payload) as { type: string; bids?: [string, string][]; asks?: [string, string][]; changes?: [string, string, string][] };
      if (m.type === 'snapshot') for (const [side, levels] of [[bids, m.bids!], [asks, m.asks!]] as const) for (const [p, q] of levels) side.set(p, q);
      for (const [side, p, q] of m.changes ?? []) {
        const book = side === 'buy' ? bids : asks;
        if (Number(q) === 0) book.delete(p);
        else book.set(p, q);
      }
    }
    const after = frames.filter((f) => f.recvNs >= start && f.payload.startsWith('{"type":"l2update"')).map((f) => f.payload);
    const sim = await serve(coinbase, ['coinbase'], 20, { start: { atNs: start } });
    const c = client(sim.wsUrl('coinbase'));
    await c.opened;
    c.ws.send('{"type":"subscribe","product_ids":["DASH-BTC"],"channels":["level2"]}');
    await c.until((f) => f.length >= 2 + after.length);
    const snap = JSON.parse(c.frames[1]!) as { type: string; bids: [string, string][]; asks: [string, string][] };
    expect(snap.type).toBe('snapshot');
    expect(snap.bids).toEqual([...bids].sort((a, b) => Number(b[0]) - Number(a[0])));
    expect(snap.asks).toEqual([...asks].sort((a, b) => Number(a[0]) - Number(b[0])));
    expect(c.frames.slice(2), 'then the recorded updates of the slice').toEqual(after);
    c.ws.close();
  });
});
