/**
 * tardis-machine's HTTP replay API on the façade (issue 13, "Also"): `GET /replay` streams
 * the recorded frames as NDJSON, the same frames the WebSocket façade serves;
 * `/replay-normalized` streams tapedeck's normalized trades and quotes, and the candles its
 * engine closes over them (checked against an independent fold of the slice's trades). Real
 * recording, real sockets on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { isoMicros } from '../../src/log/time.ts';
import { REAL, tmpDir } from '../helpers.ts';
import { archiveFrames, client, importBtc } from './facade-helpers.ts';

describe.skipIf(!REAL)('HTTP replay API', () => {
  const dir = tmpDir();
  let frames: { payload: string; recvNs: bigint }[];
  let sim: Simulator;
  let window: { payload: string; recvNs: bigint }[];
  const lines = async (q: string): Promise<{ status: number; lines: string[] }> => {
    const r = await fetch(`http://${sim.host}:${sim.port}${q}`);
    return { status: r.status, lines: (await r.text()).split('\n').filter((l) => l !== '') };
  };

  beforeAll(async () => {
    const btc = importBtc(dir);
    frames = await archiveFrames(btc);
    const t0 = frames[0]!.recvNs;
    window = frames.filter((f) => f.recvNs >= t0 + 10_000_000_000n && f.recvNs < t0 + 15_000_000_000n && f.payload.startsWith('{"stream"'));
    sim = await startSimulator({ exchanges: ['binance'], seed: 1, from: btc, speed: 50, slice: { start: { afterMs: 10_000 }, end: { afterMs: 15_000 } } });
  }, 120_000);
  afterAll(async () => sim?.close());

  it('streams the slice\'s frames as {localTimestamp, message} lines, message the exact frame', async () => {
    const r = await lines('/replay?exchange=binance');
    expect(r.status).toBe(200);
    expect(window.length).toBeGreaterThan(500);
    expect(r.lines).toEqual(window.map((f) => `{"localTimestamp":"${isoMicros(Number(f.recvNs / 1000n))}","message":${f.payload}}`));
  });

  it('streams the same frames as the WebSocket façade', async () => {
    const ws = client(`${sim.wsUrl('binance')}/stream?streams=btcusdt@trade/btcusdt@bookTicker/btcusdt@depth@100ms`);
    const [http] = await Promise.all([lines('/replay?exchange=binance&symbols=btcusdt'), ws.closed]);
    expect(http.lines.map((l) => l.slice(l.indexOf(',"message":') + 11, -1))).toEqual(ws.frames);
  });

  it('from/to choose a part; symbols filter; a bad request gets 400', async () => {
    const t0 = frames[0]!.recvNs;
    // A relative time counts from the served slice's first frame (10 s into the recording).
    const part = await lines(`/replay?exchange=binance&from=2s&to=${isoMicros(Number((t0 + 13_000_000_000n) / 1000n))}`);
    expect(part.lines.length).toBe(window.filter((f) => f.recvNs >= t0 + 12_000_000_000n && f.recvNs < t0 + 13_000_000_000n).length);
    expect((await lines('/replay?exchange=binance&symbols=ethusdt')).lines).toEqual([]);
    expect((await lines('/replay?exchange=kraken')).status).toBe(400);
    expect((await lines('/replay?exchange=binance&from=whenever')).status).toBe(400);
  });

  it('/replay-normalized streams tapedeck\'s trades and quotes of the slice', async () => {
    const r = await lines('/replay-normalized?exchange=binance');
    const got = r.lines.map((l) => JSON.parse(l) as { type: string; id?: string; price?: number; bidPrice?: number });
    const trades = window.filter((f) => f.payload.startsWith('{"stream":"btcusdt@trade"')).map((f) => (JSON.parse(f.payload) as { data: { t: number; p: string } }).data);
    expect(got.filter((e) => e.type === 'trade').map((e) => [e.id, e.price])).toEqual(trades.map((t) => [String(t.t), Number(t.p)]));
    expect(got.filter((e) => e.type === 'quote').length).toBe(window.filter((f) => f.payload.startsWith('{"stream":"btcusdt@bookTicker"')).length);
  });

  it('/replay-normalized streams the candles of the slice as they close, equal to a fold of its trades; candles=none for none, a bad one gets 400', async () => {
    const r = await lines('/replay-normalized?exchange=binance&candles=10s,1m');
    const bars = r.lines.map((l) => JSON.parse(l) as { type: string; interval: number; openTimestamp: string; open: number; high: number; low: number; close: number; volume: number; trades: number })
      .filter((e) => e.type === 'trade_bar');
    const trades = window.filter((f) => f.payload.startsWith('{"stream":"btcusdt@trade"')).map((f) => (JSON.parse(f.payload) as { data: { p: string; q: string; T: number } }).data);
    for (const ms of [10_000, 60_000]) {
      const byWindow = new Map<number, { p: number; q: number }[]>();
      for (const t of trades) {
        const w = Math.floor(t.T / ms) * ms;
        byWindow.set(w, [...(byWindow.get(w) ?? []), { p: Number(t.p), q: Number(t.q) }]);
      }
      const want = [...byWindow].sort((a, b) => a[0] - b[0]).map(([w, ts]) => ({
        openTimestamp: isoMicros(w * 1000), open: ts[0]!.p, high: Math.max(...ts.map((t) => t.p)), low: Math.min(...ts.map((t) => t.p)),
        close: ts.at(-1)!.p, trades: ts.length, volume: ts.reduce((a, t) => a + t.q, 0),
      }));
      const got = bars.filter((b) => b.interval === ms).sort((a, b) => a.openTimestamp.localeCompare(b.openTimestamp));
      expect(got.map(({ openTimestamp, open, high, low, close, trades: n }) => ({ openTimestamp, open, high, low, close, trades: n })))
        .toEqual(want.map(({ volume: _, ...w }) => w));
      got.forEach((b, i) => expect(b.volume).toBeCloseTo(want[i]!.volume, 9));
    }
    expect((await lines('/replay-normalized?exchange=binance&candles=none')).lines.some((l) => l.includes('"trade_bar"'))).toBe(false);
    expect((await lines('/replay-normalized?exchange=binance&candles=soon')).status).toBe(400);
  });
});
