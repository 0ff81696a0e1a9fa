/**
 * The dashboard server serves its own routes and nothing else: no path, however dotted or
 * percent-encoded, reaches a file; it binds loopback unless `--ui-host` says otherwise; while
 * on loopback a foreign Host or Origin is refused; bad `ui` input is one line and exit 2.
 */
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UiHub } from '../../src/ui/hub.ts';
import { serveUi, type UiServer } from '../../src/ui/server.ts';
import { GOLDEN_SESSION } from '../golden/golden.ts';
import { ROOT, runCli, startCli } from '../helpers.ts';

interface Reply { status: number; body: string }

/** A raw request: the path goes on the wire exactly as written (fetch would normalise the dots). */
function raw(port: number, rawPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An address of this machine that is not loopback, if it has one. */
function outsideAddress(): string | undefined {
  return Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

describe('dashboard server', () => {
  let hub: UiHub;
  let server: UiServer;
  let port = 0;

  beforeAll(async () => {
    hub = new UiHub({ source: 'test', mode: 'static', intervals: ['1m'], indicators: ['rsi_14'] });
    server = await serveUi(hub, '127.0.0.1', 0);
    port = Number(new URL(server.url).port);
  });

  afterAll(async () => {
    await server.close();
  });

  it('serves its page, its script, lightweight-charts and the snapshot', async () => {
    const page = await raw(port, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('/vendor/lightweight-charts.js');
    expect((await raw(port, '/app.js')).status).toBe(200);
    expect((await raw(port, '/app.css')).status).toBe(200);
    const charts = await raw(port, '/vendor/lightweight-charts.js');
    expect(charts.status).toBe(200);
    expect(charts.body, 'the library itself, from node_modules').toContain('Lightweight Charts');
    expect(JSON.parse((await raw(port, '/api/snapshot')).body).type).toBe('snapshot');
  });

  it('serves nothing outside its routes: traversal, encodings, sources, node_modules', async () => {
    const secrets = [fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8').slice(0, 40), 'root:x:0:0'];
    const attempts = [
      '/../package.json', '/..%2fpackage.json', '/%2e%2e/package.json', '/%2e%2e%2fpackage.json', '/vendor/../../package.json',
      '/vendor/..%2f..%2f..%2fpackage.json', '/app.js/../../package.json', '//etc/passwd', '/../../../../../../etc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..\\..\\package.json', '/package.json', '/src/ui/server.ts', '/page/app.js',
      '/node_modules/lightweight-charts/package.json', '/vendor/', '/vendor/lightweight-charts.js%00.txt', '/index.html',
      '/api/snapshot/../../package.json', 'http://127.0.0.1/../package.json', '/app.js?../../package.json#x',
    ];
    for (const p of attempts) {
      const r = await raw(port, p);
      if (p === '/app.js?../../package.json#x') expect(r.status, 'a query string does not change the route').toBe(200);
      else expect(r.status, p).toBe(404);
      for (const s of secrets) expect(r.body, p).not.toContain(s);
    }
    expect((await raw(port, '/', {}, 'POST')).status, 'only GET and HEAD').toBe(405);
  });

  it('refuses a foreign Host (DNS rebinding) and a socket from a foreign Origin while on loopback', async () => {
    expect((await raw(port, '/', { host: 'evil.example:80' })).status).toBe(403);
    expect((await raw(port, '/api/snapshot', { host: `localhost:${port}` })).status).toBe(200);
    const open = (url: string, origin?: string): Promise<string> => new Promise((resolve) => {
      const ws = new WebSocket(url, origin ? { origin } : {});
      ws.once('message', (d) => {
        ws.close();
        resolve(JSON.parse(String(d)).type as string);
      });
      ws.once('error', () => resolve('refused'));
    });
    expect(await open(`ws://127.0.0.1:${port}/live`, `http://127.0.0.1:${port}`)).toBe('snapshot');
    expect(await open(`ws://127.0.0.1:${port}/live`, 'https://evil.example')).toBe('refused');
    expect(await open(`ws://127.0.0.1:${port}/other`)).toBe('refused');
  });

  it('binds loopback only by default, and every interface with --ui-host 0.0.0.0', async () => {
    const outside = outsideAddress();
    const ui = startCli(['ui', '--from', GOLDEN_SESSION, '--windows', '10s,1m', '--ui-port', '0']);
    const url = new URL((await ui.waitFor(/dashboard for .* at (\S+)/))[1]!);
    expect(url.hostname).toBe('127.0.0.1');
    expect(await connects('127.0.0.1', Number(url.port))).toBe(true);
    if (outside) expect(await connects(outside, Number(url.port)), `not reachable on ${outside}`).toBe(false);
    ui.child.kill('SIGTERM');
    expect(await ui.exited, ui.stderr).toBe(0);
    if (!outside) return;
    const open = startCli(['ui', '--from', GOLDEN_SESSION, '--windows', '10s,1m', '--ui-port', '0', '--ui-host', '0.0.0.0']);
    const wide = new URL((await open.waitFor(/dashboard for .* at (\S+)/))[1]!);
    expect(await connects(outside, Number(wide.port)), `reachable on ${outside} when asked`).toBe(true);
    open.child.kill('SIGTERM');
    expect(await open.exited, open.stderr).toBe(0);
  }, 60_000);

  it('says what is wrong with bad input in one line, exit 2', async () => {
    const missing = runCli(['ui', '--from', '/nonexistent/tapedeck']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('tapedeck: no output directory or archive at /nonexistent/tapedeck');
    const badPort = runCli(['ui', '--from', GOLDEN_SESSION, '--ui-port', '70000']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/^tapedeck: bad --ui-port 70000/);
    const inUse = runCli(['ui', '--from', GOLDEN_SESSION, '--ui-port', String(port)]);
    expect(inUse.code).toBe(2);
    expect(inUse.stderr.trim().split('\n'), 'one line, no stack').toHaveLength(1);
    expect(inUse.stderr).toMatch(/port \d+ on 127\.0\.0\.1 is in use \(choose another with --ui-port\/--ui-host/);
  }, 60_000);
});
