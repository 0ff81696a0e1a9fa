/**
 * tardis-machine's HTTP replay API on the façade (issue 13, "Also"): `GET /replay` streams
 * the recorded frames as NDJSON, the same frames the WebSocket façade serves;
 * `/replay-normalized` streams tapedeck's normalized trades and quotes. Real recording,
 * real sockets on loopback.
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
});
