/**
 * Hardening of `tapedeck simulate` (issue 10 items 10, 13): no request can kill it or make
 * it block, `_control` refuses unbounded counts and foreign pages, and SIGTERM stops it
 * within a second even when it has fallen behind its own market.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startCli, type RunningCli } from '../helpers.ts';

/** Sends `raw` as is and resolves with the status line of the answer ('' when the socket just closes). */
function rawRequest(port: number, raw: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer to ${JSON.stringify(raw.slice(0, 60))} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('data', (d) => {
      got += String(d);
      if (got.includes('\r\n')) {
        clearTimeout(t);
        s.destroy();
        resolve(got.split('\r\n')[0]!);
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      resolve(got.split('\r\n')[0] ?? '');
    });
    s.write(raw);
  });
}

async function post(port: number, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/_control`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, body: await res.text() };
}

describe('simulator input', () => {
  let sim: RunningCli;
  let port = 0;
  beforeAll(async () => {
    sim = startCli(['simulate', '--port', '0', '--seed', '3']);
    port = Number((await sim.waitFor(/binance: ws:\/\/127\.0\.0\.1:(\d+)\//))[1]);
  });
  afterAll(async () => {
    sim.child.kill('SIGKILL');
    await sim.exited;
  });

  const alive = async (): Promise<void> => {
    expect(sim.child.exitCode, `the simulator is still running; stderr: ${sim.stderr}`).toBe(null);
    const res = await fetch(`http://127.0.0.1:${port}/coinbase/products/BTC-USD/trades?limit=1`);
    expect([200, 404]).toContain(res.status);
  };

  it.each([
    ['a malformed percent-encoding in a REST path', 'GET /coinbase/products/%E0%A4%A/trades HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
    ['an absolute-form request line with a broken host', 'GET http://[::1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
    ['a broken WebSocket upgrade URL', 'GET http://[::1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'],
    ['a non-numeric limit', 'GET /binance/api/v3/historicalTrades?symbol=BTCUSDT&limit=lots HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
    ['a non-numeric after', 'GET /coinbase/products/BTC-USD/trades?after=x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
  ])('answers 400 to %s and keeps running', async (_what, raw) => {
    await new Promise((r) => setTimeout(r, 300));
    expect(await rawRequest(port, raw)).toMatch(/^HTTP\/1\.1 400 /);
    await alive();
  });

  it('survives WebSocket messages that are JSON but not objects', async () => {
    for (const path of ['/binance/ws/btcusdt@trade', '/coinbase']) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
      await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
      ws.send('null');
      ws.send('{"type":"subscribe","product_ids":["BTC-USD"],"channels":[null, 5]}');
      await new Promise((r) => setTimeout(r, 300));
      ws.terminate();
    }
    await alive();
  });

  it('refuses a _control count beyond its bound', async () => {
    const r = await post(port, '{"action":"malformed","exchange":"binance","count":5000000}');
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/count/);
    expect((await post(port, '{"action":"drop","exchange":"binance","count":-3}')).status).toBe(400);
    expect((await post(port, '{"action":"stall","exchange":"binance","ms":1e12}')).status).toBe(400);
    expect((await post(port, '{"action":"drop","exchange":"binance","count":2}')).status).toBe(200);
    await alive();
  });

  it('refuses _control from a foreign page (Origin) or a foreign Host (DNS rebinding)', async () => {
    const body = '{"action":"drop","exchange":"binance","count":1}';
    expect((await post(port, body, { origin: 'http://evil.example', 'content-type': 'text/plain' })).status).toBe(403);
    expect(await rawRequest(port, `POST /_control HTTP/1.1\r\nHost: evil.example:${port}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`)).toMatch(/^HTTP\/1\.1 403 /);
    expect((await post(port, body, { origin: `http://127.0.0.1:${port}` })).status, 'its own origin is fine').toBe(200);
    await alive();
  });

  it('refuses an oversized _control body', async () => {
    const r = await post(port, `{"action":"drop","exchange":"binance","pad":"${'x'.repeat(200_000)}"}`).catch(() => ({ status: 413, body: '' }));
    expect(r.status).toBe(413);
    await alive();
  });
});

describe('simulator stop', () => {
  it('stops by itself on SIGTERM, exit 0, even when it has fallen behind its market', async () => {
    const sim = startCli(['simulate', '--port', '0', '--seed', '5', '--mean-gap', '0.0001']);
    await sim.waitFor(/binance: ws:/);
    await new Promise((r) => setTimeout(r, 2_000));
    sim.child.kill('SIGTERM');
    // One signal is enough: no second one is sent. A simulator that drained its backlog
    // first would still be running when this gives up (a hang, not a slow machine).
    const code = await Promise.race([sim.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 20_000))]);
    if (code === 'still running') sim.child.kill('SIGKILL');
    expect(code, sim.stderr).toBe(0);
  }, 40_000);
});
