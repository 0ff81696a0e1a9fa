/**
 * The simulator speaks Bitstamp v2 and Kraken v2 (protocols.md §4, §5), checked with a plain
 * WebSocket client over loopback: subscribe acks and errors, unsubscribe, the data each
 * channel carries, Bitstamp's heartbeat answer and `bts:request_reconnect`, Kraken's status,
 * trade snapshot, ping/pong and heartbeats, both REST trade endpoints, and a re-served
 * recording of the two.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { writeSimulatedArchive } from '../../src/cli/demo.ts';
import { readArchiveEvents, sleep, tmpDir } from '../helpers.ts';
import { connect } from './ws-client.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ exchanges: ['bitstamp', 'kraken'], seed: 9, meanGapMs: 40 });
});
afterAll(async () => sim.close());

describe('simulated Bitstamp', () => {
  it('acks each channel, sends its trades and top of book, answers heartbeats, refuses what it does not serve', async () => {
    const c = await connect(`${sim.wsUrl('bitstamp')}/`);
    const subscribe = (channel: string): string => `{"event":"bts:subscribe","data":{"channel":"${channel}"}}`;
    for (const m of [subscribe('live_trades_btcusd'), subscribe('order_book_ethusd'), subscribe('live_orders_btcusd'), '{"event":"bts:heartbeat"}', 'not json']) c.ws.send(m);
    await sleep(1_500);
    expect(c.frames).toEqual(expect.arrayContaining([
      '{"event":"bts:subscription_succeeded","channel":"live_trades_btcusd","data":{}}',
      '{"event":"bts:subscription_succeeded","channel":"order_book_ethusd","data":{}}',
      '{"event":"bts:heartbeat","channel":"","data":{"status":"success"}}',
    ]));
    const errors = c.parsed().filter((m) => m.event === 'bts:error');
    expect(errors.map((m) => (m.data as { message: string }).message)).toEqual(['Invalid channel live_orders_btcusd.', 'Bad subscription string.']);
    const data = c.parsed().filter((m) => m.event === 'trade' || m.event === 'data');
    expect(new Set(data.map((m) => `${String(m.event)} ${String(m.channel)}`))).toEqual(new Set(['trade live_trades_btcusd', 'data order_book_ethusd']));
    c.ws.send('{"event":"bts:unsubscribe","data":{"channel":"live_trades_btcusd"}}');
    await sleep(300);
    const n = c.frames.length;
    await sleep(700);
    expect(c.frames.slice(n).filter((f) => f.includes('live_trades_btcusd')), 'no trades after unsubscribing').toEqual([]);
    c.ws.close();
  });

  it('asks to reconnect on a shutdown and closes on a client that stays', async () => {
    const c = await connect(sim.wsUrl('bitstamp'));
    sim.control({ action: 'disconnect', exchange: 'bitstamp', mode: 'shutdown' });
    expect(await c.closed).toBe(1001);
    expect(c.frames).toContain('{"event":"bts:request_reconnect","channel":"","data":""}');
  });

  it('serves REST transactions newest first, within the time asked for', async () => {
    await sleep(500);
    const res = await fetch(`${sim.restUrl('bitstamp')}/api/v2/transactions/btcusd/?time=day`);
    expect(res.status).toBe(200);
    const rows = (await res.json()) as { tid: string; date: string; type: string; price: string; amount: string }[];
    // Read after the reply: the market may have traded since, so the reply is the newest trades from its first row on.
    const made = sim.trades('bitstamp').filter((t) => t.symbol === 'btcusd').map((t) => t.tradeId).reverse();
    const at = made.indexOf(Number(rows[0]!.tid));
    expect(at, 'trades made after the reply').toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThan(5);
    expect(rows.map((r) => Number(r.tid))).toEqual(made.slice(at, at + rows.length));
    expect(rows.length).toBeGreaterThanOrEqual(made.length - at - 5);
    expect(rows.every((r) => /^\d+$/.test(r.date) && (r.type === '0' || r.type === '1'))).toBe(true);
    expect((await fetch(`${sim.restUrl('bitstamp')}/api/v2/transactions/btcusd/?time=week`)).status).toBe(400);
    expect((await fetch(`${sim.restUrl('bitstamp')}/api/v2/transactions/dogeusd/`)).status).toBe(404);
  });
});

describe('simulated Kraken', () => {
  it('says its status, acks each symbol, opens trades and tickers with a snapshot, then updates; pong; errors', async () => {
    await sleep(1_000);
    const c = await connect(`${sim.wsUrl('kraken')}/v2`);
    c.ws.send('{"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD","ETH/USD"],"snapshot":true},"req_id":1}');
    c.ws.send('{"method":"subscribe","params":{"channel":"ticker","symbol":["BTC/USD"]},"req_id":2}');
    c.ws.send('{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"]},"req_id":3}');
    c.ws.send('{"method":"ping","req_id":4}');
    await sleep(1_000);
    const msgs = c.parsed();
    expect(msgs[0]).toMatchObject({ channel: 'status', type: 'update', data: [{ system: 'online', api_version: 'v2' }] });
    expect(c.frames[0]).toMatch(/"connection_id":\d{20}\}/);
    const acks = msgs.filter((m) => m.method === 'subscribe' && m.success === true).map((m) => [(m.result as { channel: string; symbol: string }).channel, (m.result as { symbol: string }).symbol, m.req_id]);
    expect(acks).toEqual([['trade', 'BTC/USD', 1], ['trade', 'ETH/USD', 1], ['ticker', 'BTC/USD', 2]]);
    expect(msgs.find((m) => m.method === 'subscribe' && m.success === false)).toMatchObject({ error: 'Channel book not supported', req_id: 3 });
    expect(msgs.find((m) => m.method === 'pong')).toMatchObject({ req_id: 4 });
    const trades = msgs.filter((m) => m.channel === 'trade') as { type: string; data: { symbol: string; trade_id: number }[] }[];
    const snapshots = trades.filter((m) => m.type === 'snapshot');
    expect(snapshots.map((m) => m.data[0]!.symbol)).toEqual(['BTC/USD', 'ETH/USD']);
    for (const s of snapshots) {
      const made = sim.trades('kraken').filter((t) => t.symbol === s.data[0]!.symbol && t.tradeId <= s.data.at(-1)!.trade_id);
      expect(s.data.map((d) => d.trade_id), 'the newest trades, at most 50').toEqual(made.slice(-50).map((t) => t.tradeId));
    }
    // Snapshot then updates: each symbol's ids run on without a hole or a repeat.
    for (const symbol of ['BTC/USD', 'ETH/USD']) {
      const ids = trades.flatMap((m) => m.data).filter((d) => d.symbol === symbol).map((d) => d.trade_id);
      expect(ids.length).toBeGreaterThan(1);
      expect(ids.every((id, i) => i === 0 || id === ids[i - 1]! + 1), symbol).toBe(true);
    }
    const tickers = msgs.filter((m) => m.channel === 'ticker') as { type: string; data: { symbol: string; bid: number; ask: number }[] }[];
    expect(tickers.map((m) => m.type), 'the current best bid/offer first, then its changes').toEqual(['snapshot', ...tickers.slice(1).map(() => 'update')]);
    expect(tickers.length).toBeGreaterThan(1);
    expect(tickers.every((m) => m.data[0]!.symbol === 'BTC/USD' && m.data[0]!.bid < m.data[0]!.ask)).toBe(true);
    c.ws.close();
  });

  it('sends a heartbeat each second nothing else was sent, once subscribed', async () => {
    const c = await connect(sim.wsUrl('kraken'));
    await sleep(1_400);
    expect(c.frames.filter((f) => f === '{"channel":"heartbeat"}'), 'none before a subscription').toEqual([]);
    // A market the simulated one never trades: a subscription with nothing flowing.
    c.ws.send('{"method":"subscribe","params":{"channel":"trade","symbol":["DOGE/USD"],"snapshot":false}}');
    await sleep(2_600);
    const after = c.frames.slice(c.frames.findIndex((f) => f.includes('"success":true')) + 1);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(new Set(after), 'nothing but heartbeats, and no snapshot (none asked)').toEqual(new Set(['{"channel":"heartbeat"}']));
    c.ws.close();
  });

  it('serves REST Trades oldest first with the trade id last, after a time cursor', async () => {
    const made = sim.trades('kraken').filter((t) => t.symbol === 'ETH/USD');
    const since = BigInt(made[2]!.tsUs) * 1000n;
    const body = (await (await fetch(`${sim.restUrl('kraken')}/0/public/Trades?pair=ETHUSD&since=${since}&count=5`)).json()) as { error: string[]; result: Record<string, unknown[][]> };
    expect(body.error).toEqual([]);
    expect(body.result.ETHUSD!.map((r) => r[6])).toEqual(made.slice(3, 8).map((t) => t.tradeId));
    expect(body.result.ETHUSD!.every((r) => (r[3] === 'b' || r[3] === 's') && typeof r[0] === 'string')).toBe(true);
    // Without a cursor: the last trades (a restart asks for the newest one).
    const newest = (await (await fetch(`${sim.restUrl('kraken')}/0/public/Trades?pair=ETHUSD&count=1`)).json()) as { result: Record<string, unknown[][]> };
    const ids = sim.trades('kraken').filter((t) => t.symbol === 'ETH/USD').map((t) => t.tradeId);
    expect(newest.result.ETHUSD).toHaveLength(1);
    expect(ids.slice(-5), 'one of the newest (the market may have traded since the reply)').toContain(newest.result.ETHUSD![0]![6]);
    expect(await (await fetch(`${sim.restUrl('kraken')}/0/public/Trades?pair=DOGEUSD`)).json()).toEqual({ error: ['EQuery:Unknown asset pair'] });
  });
});

describe('a re-served recording of Bitstamp and Kraken', () => {
  it('plays each subscribed channel\'s recorded frames byte for byte, in order, and refuses what the recording lacks', async () => {
    const dir = tmpDir();
    writeSimulatedArchive(dir, { seed: 3, startMs: Date.UTC(2024, 7, 9), minutes: 0.2, exchanges: ['bitstamp', 'kraken'] });
    const frames = (await readArchiveEvents(dir)).filter((e) => e.kind === 'frame');
    const s = await startSimulator({ exchanges: ['bitstamp', 'kraken'], seed: 1, from: dir, speed: 50 });
    try {
      const b = await connect(s.wsUrl('bitstamp'));
      b.ws.send('{"event":"bts:subscribe","data":{"channel":"live_trades_ethusd"}}');
      b.ws.send('{"event":"bts:subscribe","data":{"channel":"order_book_dogeusd"}}');
      const k = await connect(`${s.wsUrl('kraken')}/v2`);
      k.ws.send('{"method":"subscribe","params":{"channel":"ticker","symbol":["BTC/USD"]},"req_id":1}');
      await sleep(1_500);
      const want = (re: RegExp): string[] => {
        const w = frames.filter((f) => re.test(f.payload)).map((f) => f.payload);
        expect(w.length, `the recording holds ${re}`).toBeGreaterThan(5);
        return w;
      };
      expect(b.frames.filter((f) => f.includes('"event":"trade"'))).toEqual(want(/"channel":"live_trades_ethusd","event":"trade"/));
      expect(b.frames.some((f) => f.includes('"bts:error"') && f.includes('order_book_dogeusd is not in this recording'))).toBe(true);
      expect(k.frames.filter((f) => f.startsWith('{"channel":"ticker"'))).toEqual(want(/^\{"channel":"ticker".*"symbol":"BTC\/USD"/));
      expect(k.frames.filter((f) => f.startsWith('{"channel":"trade"')), 'only what was subscribed').toEqual([]);
      b.ws.close();
      k.ws.close();
    } finally {
      await s.close();
    }
  });
});
