/**
 * The dashboard's HTTP and WebSocket server. It serves a fixed table of routes, read into
 * memory at start: the page, its script and style, lightweight-charts from node_modules
 * (no CDN: it works offline), `/api/snapshot`, and the `/live` socket. No request path ever
 * reaches the file system, so nothing outside those routes can be served, whatever the
 * `..`s and percent-encodings. Bound to loopback unless told otherwise; while it is, a
 * request naming a foreign Host (DNS rebinding) or a socket from a foreign Origin gets 403.
 */
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import type { UiHub } from './hub.ts';

const PAGE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'page');

interface Asset { type: string; body: Buffer }

function assets(): Map<string, Asset> {
  const charts = path.join(path.dirname(createRequire(import.meta.url).resolve('lightweight-charts/package.json')), 'dist/lightweight-charts.standalone.production.js');
  const file = (f: string, type: string): Asset => ({ type, body: fs.readFileSync(f) });
  return new Map([
    ['/', file(path.join(PAGE, 'index.html'), 'text/html; charset=utf-8')],
    ['/app.js', file(path.join(PAGE, 'app.js'), 'text/javascript; charset=utf-8')],
    ['/app.css', file(path.join(PAGE, 'app.css'), 'text/css; charset=utf-8')],
    ['/vendor/lightweight-charts.js', file(charts, 'text/javascript; charset=utf-8')],
  ]);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `127.0.0.1:8080` → `127.0.0.1`; `[::1]:8080` → `[::1]`. */
function hostName(hostHeader: string): string {
  return hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.replace(/:\d+$/, '');
}

export interface UiServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveUi(hub: UiHub, host: string, port: number): Promise<UiServer> {
  const routes = assets();
  const guarded = isLoopback(host);
  const foreign = (req: http.IncomingMessage): boolean => {
    if (!guarded) return false;
    if (!isLoopback(hostName(req.headers.host ?? ''))) return true;
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    try {
      return !isLoopback(hostName(new URL(origin).host));
    } catch {
      return true;
    }
  };
  const headers = {
    'x-content-type-options': 'nosniff', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
  };

  const server = http.createServer((req, res) => {
    if (foreign(req)) return void res.writeHead(403, headers).end('forbidden\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
    const pathname = (req.url ?? '').split('?')[0]!;
    if (pathname === '/api/snapshot') {
      const body = JSON.stringify(hub.snapshot());
      return void res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : body);
    }
    const asset = routes.get(pathname);
    if (!asset) return void res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found\n');
    res.writeHead(200, { ...headers, 'content-type': asset.type, 'content-length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  server.on('upgrade', (req, socket, head) => {
    if (foreign(req) || (req.url ?? '').split('?')[0] !== '/live') {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const off = hub.subscribe((m) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
      });
      ws.on('close', off);
      ws.on('error', off);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${shown}:${a.port}/`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
