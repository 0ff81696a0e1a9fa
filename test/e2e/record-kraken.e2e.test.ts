/**
 * `tapedeck record --exchanges kraken` through the CLI against a loopback WebSocket server
 * speaking Kraken's v2 protocol (protocols.md §4). No real v2 capture exists (the Kraken
 * fixtures are v1), so the frames here follow the documented shapes [K2][K3]: a status on
 * connect, one ack per subscribed symbol, trade snapshots and updates with `trade_id`s,
 * tickers on best bid/offer changes.
 *
 * The first connection skips two trade ids, then the server drops it; the second connection's
 * snapshot is shorter than the outage and does not hold them. The same server answers REST
 * `GET /0/public/Trades?pair=&since=` two trades a page, by time, with the `last` cursor. So:
 * the recorder subscribes to trade + ticker on both connections; it backfills the gap from
 * the time of the last trade before it, following `last` until the gap's last id; every frame
 * sent is archived byte for byte in order, every REST body too; and the replay's candles count
 * every trade once (the snapshot's and the pages' repeats are dropped, the missing trades taken).
 */
import fs from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { readParquet } from '../../src/storage/parquet.ts';
import { readArchiveEvents, runCli, startCli, tmpDir } from '../helpers.ts';

const SYMBOL = 'BTC/USD';

/** Trade `id` happens at `ms + id` ms and 123 µs (`trades` below). */
const tsUs = (id: number, ms: number): number => (ms + id) * 1000 + 123;
const trade = (id: number, ms: number): Record<string, unknown> => ({
  symbol: SYMBOL, side: id % 3 === 0 ? 'sell' : 'buy', price: 60_000 + id / 8, qty: 0.001 * (id % 7 + 1), ord_type: 'limit', trade_id: id,
  timestamp: new Date(ms).toISOString().replace('Z', '123Z'),
});
const trades = (type: 'snapshot' | 'update', ids: number[], ms: number): string => JSON.stringify({ channel: 'trade', type, data: ids.map((id) => trade(id, ms + id)) });
const ticker = (bid: number, ms: number): string => JSON.stringify({
  channel: 'ticker', type: 'update',
  data: [{ symbol: SYMBOL, bid, bid_qty: 0.5, ask: bid + 0.1, ask_qty: 0.7, last: bid, volume: 100, vwap: bid, low: bid - 10, high: bid + 10, change: 0, change_pct: 0, timestamp: new Date(ms).toISOString() }],
});
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

const servers: WebSocketServer[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const c of closers.splice(0)) await c();
});

describe('record kraken (v2)', () => {
  it('subscribes, backfills the gap the snapshot misses over REST by time, reconnects, and archives every frame and body', async () => {
    // Every trade in one minute, well inside it: no window closes while the test runs.
    const base = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
    const script = [
      [trades('snapshot', range(100, 104), base), trades('update', range(105, 110), base), ticker(60_010, base + 200), trades('update', range(113, 115), base), ticker(60_011, base + 300)],
      [trades('snapshot', range(114, 115), base), trades('update', range(116, 118), base), ticker(60_012, base + 400)],
    ];
    const sent: string[] = [];
    const subscribed: string[][] = [];
    const asked: string[] = [];
    const http = createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      asked.push(req.url!);
      // Two trades a page, after `since` (ns), oldest first; `last` is the page's newest time.
      const since = BigInt(u.searchParams.get('since') ?? '0');
      const page = range(100, 118).filter((id) => BigInt(tsUs(id, base)) * 1000n > since).slice(0, 2);
      const rows = page.map((id) => {
        const t = trade(id, base + id);
        return [String(t.price), String(t.qty), Number((tsUs(id, base) / 1e6).toFixed(6)), t.side === 'buy' ? 'b' : 's', 'l', '', id];
      });
      const last = page.length > 0 ? String(BigInt(tsUs(page.at(-1)!, base)) * 1000n) : String(since);
      res.end(u.pathname === '/0/public/Trades' && u.searchParams.get('pair') === 'BTCUSD'
        ? JSON.stringify({ error: [], result: { XXBTZUSD: rows, last } })
        : '{"error":["EQuery:Unknown asset pair"]}');
    });
    const wss = new WebSocketServer({ server: http });
    servers.push(wss);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => http.close(() => r())));
    let n = 0;
    wss.on('connection', (ws) => {
      const me = n++;
      const got: string[] = [];
      subscribed.push(got);
      const send = (f: string): void => {
        sent.push(f);
        ws.send(f);
      };
      send('{"channel":"status","type":"update","data":[{"system":"online","api_version":"v2","connection_id":12893211177773849016,"version":"2.0.8"}]}');
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { method: string; params: { channel: string; symbol: string[] }; req_id: number };
        if (m.method !== 'subscribe') return;
        got.push(`${m.params.channel}:${m.params.symbol.join(',')}`);
        for (const s of m.params.symbol) {
          send(JSON.stringify({ method: 'subscribe', result: { channel: m.params.channel, symbol: s }, success: true, time_in: new Date().toISOString(), time_out: new Date().toISOString(), req_id: m.req_id }));
        }
        if (got.length < 2 || me >= script.length) return;
        for (const f of script[me]!) send(f);
        if (me === 0) setTimeout(() => ws.close(1001, 'going away'), 200);
      });
    });
    const url = `ws://127.0.0.1:${(http.address() as { port: number }).port}`;
    const dir = tmpDir('tapedeck-kraken-');
    try {
      const rec = startCli(['record', '--exchanges', 'kraken', '--symbols', 'BTC-USD', '--out', dir, '--duration', '4s', '--endpoint', `kraken=${url}`, '--metrics-port', '0']);
      expect(await rec.exited, rec.stderr).toBe(0);
      expect(subscribed).toEqual([['trade:BTC/USD', 'ticker:BTC/USD'], ['trade:BTC/USD', 'ticker:BTC/USD']]);
      expect(rec.stdout + rec.stderr).not.toMatch(/failed/);
      // From 1 ns before trade 110 (the last before the gap), then from each page's `last`, until id 112.
      const since110 = BigInt(tsUs(110, base)) * 1000n - 1n;
      expect(asked).toEqual([
        `/0/public/Trades?pair=BTCUSD&since=${since110}&count=1000`,
        `/0/public/Trades?pair=BTCUSD&since=${BigInt(tsUs(111, base)) * 1000n}&count=1000`,
      ]);

      const events = await readArchiveEvents(dir);
      expect(events.filter((e) => e.kind === 'frame').map((e) => e.payload)).toEqual(sent);
      const notes = events.filter((e) => e.kind === 'gap').map((e) => JSON.parse(e.payload) as Record<string, string>);
      expect(notes.map((g) => [g.symbol, g.from, g.to, g.status])).toEqual([[SYMBOL, '111', '112', 'requested']]);
      expect(events.filter((e) => e.kind === 'rest').map((e) => e.meta)).toEqual(asked.map((a) => `${url.replace(/^ws/, 'http')}${a}`));

      const out = path.join(dir, 'replayed');
      const r = runCli(['replay', '--from', dir, '--out', out, '--speed', 'max']);
      expect(r.code, r.stderr).toBe(0);
      const candles = (await readParquet(path.join(out, 'candles.parquet'))).filter((c) => c.interval === '1m');
      expect(candles.map((c) => [c.symbol, Number(c.trades), c.first_trade_id, c.last_trade_id])).toEqual([[SYMBOL, 19, 100n, 118n]]);
      expect(await readParquet(path.join(out, 'decode_errors.parquet'))).toEqual([]);
      const gaps = await readParquet(path.join(out, 'gaps.parquet'));
      expect(gaps.map((g) => [g.from_id, g.to_id])).toEqual([[111n, 112n]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
