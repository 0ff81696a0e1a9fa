/**
 * `tapedeck record --exchanges kraken` through the CLI against a loopback WebSocket server
 * speaking Kraken's v2 protocol (protocols.md §4). No real v2 capture exists (the Kraken
 * fixtures are v1), so the frames here follow the documented shapes [K2][K3]: a status on
 * connect, one ack per subscribed symbol, trade snapshots and updates with `trade_id`s,
 * tickers on best bid/offer changes.
 *
 * The first connection skips two trade ids, then the server drops it; the second connection's
 * snapshot holds them. So: the recorder subscribes to trade + ticker on both connections;
 * the gap is logged as not backfillable (Kraken's REST pages by time) at once, without a
 * request; every frame sent is archived byte for byte in order; and the replay's candles
 * count every trade once (the snapshot's repeats are dropped, its missing trades taken).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { readParquet } from '../../src/storage/parquet.ts';
import { readArchiveEvents, runCli, startCli, tmpDir } from '../helpers.ts';

const SYMBOL = 'BTC/USD';

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
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe('record kraken (v2)', () => {
  it('subscribes, says the gap it cannot backfill, reconnects, and archives every frame; the snapshot completes the trades', async () => {
    // Every trade in one minute, well inside it: no window closes while the test runs.
    const base = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
    const script = [
      [trades('snapshot', range(100, 104), base), trades('update', range(105, 110), base), ticker(60_010, base + 200), trades('update', range(113, 115), base), ticker(60_011, base + 300)],
      [trades('snapshot', range(106, 115), base), trades('update', range(116, 118), base), ticker(60_012, base + 400)],
    ];
    const sent: string[] = [];
    const subscribed: string[][] = [];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    servers.push(wss);
    await new Promise((r) => wss.once('listening', r));
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
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const dir = tmpDir('tapedeck-kraken-');
    try {
      const rec = startCli(['record', '--exchanges', 'kraken', '--symbols', 'BTC-USD', '--out', dir, '--duration', '4s', '--endpoint', `kraken=${url}`, '--metrics-port', '0']);
      expect(await rec.exited, rec.stderr).toBe(0);
      expect(subscribed).toEqual([['trade:BTC/USD', 'ticker:BTC/USD'], ['trade:BTC/USD', 'ticker:BTC/USD']]);
      expect(rec.stdout + rec.stderr).toMatch(/backfill of kraken BTC\/USD 111\.\.112 failed: no REST backfill for Kraken yet/);

      const events = await readArchiveEvents(dir);
      expect(events.filter((e) => e.kind === 'frame').map((e) => e.payload)).toEqual(sent);
      const notes = events.filter((e) => e.kind === 'gap').map((e) => JSON.parse(e.payload) as Record<string, string>);
      expect(notes.map((g) => [g.symbol, g.from, g.to, g.status])).toEqual([[SYMBOL, '111', '112', 'requested'], [SYMBOL, '111', '112', 'failed']]);
      expect(notes[1]!.error).toMatch(/pages by time/);
      expect(events.some((e) => e.kind === 'rest')).toBe(false);

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
