/**
 * The REST backfill's guards against an exchange that never lets it finish, against a real
 * HTTP server on loopback: answers that lead back to a page already fetched (Binance's
 * `fromId=6` answered with trade 5 again was asked for 2,500 times a second, for as long as
 * the recorder ran), and a stop or a time budget while a request hangs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../recorder/backfill.ts';
import { venue } from '../../recorder/venues.ts';

let server: http.Server;
let rest = '';
let requests = 0;
/** What the server does with a historicalTrades request: answer the same old trade, or never answer. */
let mode: 'same' | 'hang' = 'same';

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    requests++;
    if (mode === 'hang') return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify([{ id: 5, price: '60000.1', qty: '0.01', quoteQty: '600', time: 1_723_161_600_000, isBuyerMaker: true, isBestMatch: true }]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  rest = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

function run(signal?: AbortSignal): Promise<{ failed?: string; logged: number }> {
  const v = venue('binance', ['BTC-USD'], { ws: 'ws://127.0.0.1:1/x', rest });
  let logged = 0;
  let failed: string | undefined;
  return backfill({ exchange: 'binance', symbol: 'BTCUSDT', fromId: 6n, toId: 500n }, {
    venue: v, retries: 0, log: () => void logged++, onFailed: (m) => void (failed = m), ...(signal ? { signal } : {}),
  }).then(() => ({ ...(failed !== undefined ? { failed } : {}), logged }));
}

describe('a REST backfill', () => {
  it('stops, as a failed gap, when the exchange\'s answers lead back to a page already fetched', async () => {
    mode = 'same';
    requests = 0;
    const r = await run();
    expect(r.failed).toMatch(/^the exchange's answers lead back to a page already fetched \(http:\/\/127\.0\.0\.1:\d+\/api\/v3\/historicalTrades\?symbol=BTCUSDT&fromId=6&limit=\d+\): they make no progress$/);
    expect(requests, 'one request, not one per turn of the loop').toBe(1);
  });

  it('gives up a request that hangs when its signal aborts (a stop, the restart\'s budget), as a failed gap', async () => {
    mode = 'hang';
    const stop = new AbortController();
    setTimeout(() => stop.abort(new Error('stopping')), 200);
    const r = await run(stop.signal);
    expect(r.failed).toBe('stopping');
    expect(r.logged, 'the failed gap').toBe(1);
  });
});
