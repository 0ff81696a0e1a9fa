/**
 * `tapedeck record --exchanges bitstamp` through the CLI against a loopback WebSocket server
 * that speaks Bitstamp v2 (protocols.md §5) with real trade frames from the Bitstamp
 * cryptofeed recording: the recorder subscribes to each pair's live trades and top of book,
 * reconnects (and subscribes again) when the server sends `bts:request_reconnect`, and the
 * archive holds every frame the server sent, byte for byte, in order; the replay's candles
 * count every trade. The frames' times are moved to now (only the digits of `timestamp`
 * and `microtimestamp`), so the adapter's clock check sees a live feed. The client's
 * heartbeat is checked on one connection (its interval is 10 s on the real exchange).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { SupervisedConnection } from '../../recorder/connection.ts';
import { exchangeSpec } from '../../src/exchanges/registry.ts';
import { parseCryptofeedLine } from '../../src/importers/formats.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { REAL, readArchiveEvents, readLines, real, runCli, sleep, startCli, tmpDir } from '../helpers.ts';

const PAIRS = ['linketh', 'bcheur', 'xrpbtc'];

/** The recording's trade frames of PAIRS, their times moved so the first is `startUs`. */
function tradeFrames(startUs: bigint): string[] {
  const frames = readLines(real('bitstamp/cryptofeed/BITSTAMP-b88f8b.0'))
    .map(parseCryptofeedLine)
    .filter((r) => r?.kind === 'frame' && /"event": ?"trade"/.test(r.payload) && PAIRS.some((p) => r.payload.includes(`live_trades_${p}"`)))
    .map((r) => r!.payload);
  const first = BigInt(/"microtimestamp": ?"(\d+)"/.exec(frames[0]!)![1]!);
  return frames.map((f) => {
    const us = startUs + BigInt(/"microtimestamp": ?"(\d+)"/.exec(f)![1]!) - first;
    return f.replace(/("microtimestamp": ?")\d+"/, `$1${us}"`).replace(/("timestamp": ?")\d+"/, `$1${us / 1_000_000n}"`);
  });
}

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function listen(onConnection: (ws: WebSocket, n: number) => void): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  await new Promise((r) => wss.once('listening', r));
  let n = 0;
  wss.on('connection', (ws) => onConnection(ws, n++));
  return `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
}

describe.skipIf(!REAL)('record bitstamp', () => {
  it('subscribes, reconnects when asked, and archives every real frame sent, in order', async () => {
    const frames = tradeFrames(BigInt(Date.now()) * 1000n);
    expect(frames.length).toBeGreaterThan(20);
    const half = Math.floor(frames.length / 2);
    const subscribed: string[][] = [];
    const url = await listen((ws, n) => {
      const channels: string[] = [];
      subscribed.push(channels);
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { event: string; data?: { channel?: string } };
        if (msg.event !== 'bts:subscribe') return;
        const channel = msg.data!.channel!;
        channels.push(channel);
        ws.send(JSON.stringify({ event: 'bts:subscription_succeeded', channel, data: {} }));
        if (channels.length < 2 * PAIRS.length) return;
        // Subscribed to everything: the first connection gets half the trades, then the notice.
        void (async () => {
          for (const f of n === 0 ? frames.slice(0, half) : frames.slice(half)) {
            ws.send(f);
            await sleep(5);
          }
          if (n === 0) ws.send('{"event": "bts:request_reconnect", "channel": "", "data": ""}');
        })();
      });
    });
    const dir = tmpDir('tapedeck-bitstamp-');
    try {
      const rec = startCli(['record', '--exchanges', 'bitstamp', '--symbols', 'LINK-ETH,BCH-EUR,XRP-BTC', '--out', dir, '--duration', '6s', '--endpoint', `bitstamp=${url}`, '--metrics-port', '0']);
      expect(await rec.exited, rec.stderr).toBe(0);
      const want = PAIRS.flatMap((p) => [`live_trades_${p}`, `order_book_${p}`]).sort();
      expect(subscribed.length).toBe(2);
      for (const s of subscribed) expect([...s].sort()).toEqual(want);

      const events = await readArchiveEvents(dir);
      expect(events.filter((e) => e.kind === 'frame' && /"event": ?"trade"/.test(e.payload)).map((e) => e.payload)).toEqual(frames);
      expect(events.filter((e) => e.kind === 'open').length).toBe(2);
      expect(events.some((e) => e.kind === 'close' && e.meta.includes('the exchange asked to reconnect'))).toBe(true);

      const out = path.join(dir, 'replayed');
      const r = runCli(['replay', '--from', dir, '--out', out, '--speed', 'max']);
      expect(r.code, r.stderr).toBe(0);
      const candles = await readParquet(path.join(out, 'candles.parquet'));
      const oneMinute = candles.filter((c) => c.interval === '1m');
      expect(oneMinute.reduce((n, c) => n + Number(c.trades), 0)).toBe(frames.length);
      expect(new Set(oneMinute.map((c) => c.symbol))).toEqual(new Set(PAIRS.filter((p) => frames.some((f) => f.includes(`live_trades_${p}"`)))));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('sends the spec\'s heartbeat while the connection is open, each one logged as sent', async () => {
    const heard: string[] = [];
    const url = await listen((ws) => ws.on('message', (d) => heard.push(String(d))));
    const frame = exchangeSpec('bitstamp')!.live!.heartbeat!.frame;
    const logged: string[] = [];
    const c = new SupervisedConnection({
      exchange: 'bitstamp', url, subscribe: [], silenceMs: 5_000, maxAgeMs: 60_000, attempts: { count: 5, windowMs: 1_000 },
      heartbeat: { everyMs: 50, frame }, log: (kind, _conn, payload) => kind === 'sent' && logged.push(payload),
    });
    c.start();
    await sleep(400);
    await c.stop();
    expect(heard.length).toBeGreaterThanOrEqual(3);
    expect(new Set(heard)).toEqual(new Set([frame]));
    expect(logged).toEqual(heard);
  });
});
