/**
 * The simulator speaks each exchange's protocol (protocols.md §1–2), checked with a plain
 * WebSocket client over loopback: streams, acks, pings, subscribe deadlines, heartbeats,
 * and the REST backfill endpoints.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { sleep } from '../helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    exchanges: ['binance', 'coinbase'], seed: 5, meanGapMs: 40,
    protocols: { binance: { pingIntervalMs: 200, pongTimeoutMs: 700 }, coinbase: { subscribeTimeoutMs: 400, heartbeatMs: 200 } },
  });
});
afterAll(async () => sim.close());

function collect(url: string, opts: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, opts);
  const frames: string[] = [];
  const pings: number[] = [];
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('message', (d) => frames.push(String(d)));
  ws.on('ping', () => pings.push(Date.now()));
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  return { ws, frames, pings, closed, opened };
}

describe('simulated Binance', () => {
  it('serves raw streams and combined streams', async () => {
    const raw = collect(`${sim.wsUrl('binance')}/ws/btcusdt@trade`);
    const combined = collect(`${sim.wsUrl('binance')}/stream?streams=ethusdt@trade/ethusdt@bookTicker`);
    await sleep(1_000);
    expect(raw.frames.length).toBeGreaterThan(0);
    for (const f of raw.frames) expect(JSON.parse(f)).toMatchObject({ e: 'trade', s: 'BTCUSDT' });
    const streams = new Set(combined.frames.map((f) => (JSON.parse(f) as { stream: string }).stream));
    expect(streams).toEqual(new Set(['ethusdt@trade', 'ethusdt@bookTicker']));
    raw.ws.close();
    combined.ws.close();
  });

  it('acks SUBSCRIBE, lists subscriptions, and answers a bad method with an error', async () => {
    const c = collect(`${sim.wsUrl('binance')}/ws`);
    await c.opened;
    c.ws.send('{"method":"SUBSCRIBE","params":["btcusdt@bookTicker"],"id":7}');
    c.ws.send('{"method":"LIST_SUBSCRIPTIONS","id":8}');
    c.ws.send('{"method":"FROBNICATE","id":9}');
    await sleep(500);
    expect(c.frames).toContain('{"result":null,"id":7}');
    expect(c.frames).toContain('{"result":["btcusdt@bookTicker"],"id":8}');
    expect(c.frames.some((f) => f.startsWith('{"code":2,"msg":"Invalid request'))).toBe(true);
    expect(c.frames.some((f) => f.startsWith('{"u":'))).toBe(true);
    c.ws.close();
  });

  it('pings, and disconnects a client that never pongs', async () => {
    const polite = collect(`${sim.wsUrl('binance')}/ws/btcusdt@trade`);
    const mute = collect(`${sim.wsUrl('binance')}/ws/btcusdt@trade`, { autoPong: false });
    await sleep(1_500);
    expect(polite.pings.length).toBeGreaterThanOrEqual(3);
    expect(polite.ws.readyState).toBe(WebSocket.OPEN);
    expect(mute.ws.readyState, 'no pong within the timeout: disconnected').toBe(WebSocket.CLOSED);
    polite.ws.close();
  });

  it('closes with 1008 past 5 incoming messages a second', async () => {
    const c = collect(`${sim.wsUrl('binance')}/ws`);
    await c.opened;
    for (let i = 0; i < 7; i++) c.ws.send(`{"method":"LIST_SUBSCRIPTIONS","id":${i}}`);
    expect(await c.closed).toBe(1008);
  });

  it('serves historicalTrades and aggTrades by fromId', async () => {
    const trades = sim.trades('binance').filter((t) => t.symbol === 'BTCUSDT');
    const from = trades[2]!.tradeId;
    const hist = (await (await fetch(`${sim.restUrl('binance')}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${from}&limit=2`)).json()) as { id: number }[];
    expect(hist.map((r) => r.id)).toEqual([from, from + 1]);
    const agg = (await (await fetch(`${sim.restUrl('binance')}/api/v3/aggTrades?symbol=BTCUSDT&fromId=${from}&limit=1`)).json()) as { a: number; f: number }[];
    expect(agg).toMatchObject([{ a: from, f: from }]);
    expect((await fetch(`${sim.restUrl('binance')}/api/v3/historicalTrades?symbol=NOPE&fromId=1`)).status).toBe(400);
  });
});

describe('simulated Coinbase', () => {
  it('disconnects a client that does not subscribe within the deadline', async () => {
    const c = collect(sim.wsUrl('coinbase'));
    expect(await c.closed).toBe(1000);
  });

  it('answers subscribe with subscriptions, last_match per product, matches, tickers and heartbeats', async () => {
    const c = collect(sim.wsUrl('coinbase'));
    await c.opened;
    c.ws.send('{"type":"subscribe","product_ids":["BTC-USD"],"channels":["matches","ticker","heartbeat"]}');
    await sleep(1_000);
    const types = c.frames.map((f) => (JSON.parse(f) as { type: string }).type);
    expect(types[0]).toBe('subscriptions');
    expect(types[1]).toBe('last_match');
    expect(new Set(types)).toEqual(new Set(['subscriptions', 'last_match', 'match', 'ticker', 'heartbeat']));
    // Each heartbeat's last_trade_id is the trade_id of the last match sent before it.
    let lastMatch = 0;
    let checked = 0;
    for (const m of c.frames.map((f) => JSON.parse(f) as { type: string; trade_id: number; last_trade_id: number })) {
      if (m.type === 'match' || m.type === 'last_match') lastMatch = m.trade_id;
      if (m.type === 'heartbeat') {
        expect(m.last_trade_id, 'heartbeat carries the last trade id').toBe(lastMatch);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3);
    c.ws.close();
  });

  it('pages /products/{id}/trades backwards with after and CB-AFTER', async () => {
    const trades = sim.trades('coinbase').filter((t) => t.symbol === 'ETH-USD');
    const newest = trades.at(-1)!.tradeId;
    const res = await fetch(`${sim.restUrl('coinbase')}/products/ETH-USD/trades?after=${newest}&limit=3`);
    const rows = (await res.json()) as { trade_id: number; side: string }[];
    expect(rows.map((r) => r.trade_id)).toEqual([newest - 1, newest - 2, newest - 3]);
    expect(res.headers.get('cb-after')).toBe(String(newest - 3));
  });
});
