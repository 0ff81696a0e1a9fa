/**
 * The simulator's HTTP edge, bounded: a request URL that does not parse, a body past its
 * limit, or a `_control` call from a page on another origin is answered, never thrown.
 * `_control` drives faults, so any web page the user has open must not reach it: a browser
 * sends `Origin` with every cross-origin POST (even `text/plain`, which needs no preflight),
 * and a DNS-rebinding page reaches us under its own host name, which `Host` shows.
 */
import net from 'node:net';
import type http from 'node:http';
import { HttpRefusal } from '../../src/sim/http-refusal.ts';

/** The request's URL, or a 400 refusal (`GET http://[::1 HTTP/1.1` throws Invalid URL). */
export function requestUrl(req: http.IncomingMessage, host: string): URL {
  try {
    return new URL(req.url ?? '/', `http://${net.isIPv6(host) ? `[${host}]` : host}`);
  } catch {
    throw new HttpRefusal(400, `bad request target ${JSON.stringify((req.url ?? '').slice(0, 200))}`);
  }
}

/** A host name that only this machine answers to: an IP literal, `localhost`, or the name we were bound to. */
function local(hostname: string, boundHost: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return net.isIP(h) !== 0 || h === 'localhost' || h === boundHost.toLowerCase();
}

/** Refuses (403) a `_control` request whose Host or Origin is not this server. */
export function checkControlOrigin(req: http.IncomingMessage, boundHost: string, port: number): void {
  const hostHeader = req.headers.host ?? '';
  let hostname: string;
  try {
    hostname = new URL(`http://${hostHeader}`).hostname;
  } catch {
    throw new HttpRefusal(403, `_control refused: Host ${JSON.stringify(hostHeader)}`);
  }
  if (!local(hostname, boundHost)) throw new HttpRefusal(403, `_control refused: Host ${JSON.stringify(hostHeader)} is not this simulator`);
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let o: URL | undefined;
  try {
    o = new URL(origin);
  } catch {
    o = undefined;
  }
  if (!o || !local(o.hostname, boundHost) || Number(o.port || (o.protocol === 'https:' ? 443 : 80)) !== port) {
    throw new HttpRefusal(403, `_control refused: a page from ${JSON.stringify(origin)} may not drive the simulator`);
  }
}

/** The request body as text, or a 413 refusal past `limit` bytes. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > limit) throw new HttpRefusal(413, `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpRefusal(413, `body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
