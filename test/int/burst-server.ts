/** A WebSocket server on loopback that answers a client's first message (its subscribe) with `frames` frames at once. */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export async function burstServer(frames: number, frame: (i: number) => string): Promise<{ server: WebSocketServer; url: string }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  // The whole burst at once: it waits in the server's and the kernel's buffers.
  server.on('connection', (ws) => ws.once('message', () => {
    for (let i = 0; i < frames; i++) ws.send(frame(i));
  }));
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
