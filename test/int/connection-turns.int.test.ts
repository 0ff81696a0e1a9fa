/**
 * A connection flooded faster than the recorder reads it hands over a bounded number of
 * frames per turn of the event loop, so the recorder's timers (the spool commit every 50 ms)
 * still run: libuv reads a busy socket up to 32 times (64 KiB each) in one turn, and a
 * saturated recorder spent ~300 ms a turn on one connection, its commits waiting behind.
 * A real ws server on loopback sends a burst that fills the socket; a setImmediate chain
 * counts the frames logged between two turns.
 */
import type { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { SupervisedConnection } from '../../recorder/connection.ts';
import { burstServer } from './burst-server.ts';

let server: WebSocketServer | undefined;
afterEach(async () => {
  server?.close();
  server = undefined;
});

const FRAMES = 20_000;
/** Frames of ~200 bytes, as an exchange's trades are. */
const PAD = 'x'.repeat(180);
/** libuv's read size. */
const READ = 64 * 1024;

describe('SupervisedConnection under a flood', () => {
  it('logs every frame, in order, and yields to the event loop every few hundred of them', async () => {
    let url: string;
    ({ server, url } = await burstServer(FRAMES, (i) => `{"n":${i},"pad":"${PAD}"}`));
    const frames: number[] = [];
    let bytes = 0;
    let turnStart = 0;
    let most = 0;
    let turns = 0;
    let reading = true;
    const turn = (): void => {
      most = Math.max(most, bytes - turnStart);
      turnStart = bytes;
      turns++;
      if (reading) setImmediate(turn);
    };
    const conn = new SupervisedConnection({
      exchange: 'x', url, subscribe: ['{"subscribe":true}'], silenceMs: 60_000, maxAgeMs: 3_600_000, attempts: { count: 5, windowMs: 60_000 },
      log: (kind, _c, payload) => {
        if (kind !== 'frame') return;
        frames.push((JSON.parse(payload) as { n: number }).n);
        bytes += payload.length + 2;
        // A slow reader (~5 µs a frame, 40 MB/s): the server's burst waits in the socket.
        const t = performance.now() + 0.005;
        while (performance.now() < t);
        if (frames.length === 1) setImmediate(turn);
      },
    });
    conn.start();
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (frames.length < FRAMES) return;
        clearInterval(t);
        resolve();
      }, 10);
    });
    reading = false;
    await conn.stop();
    expect(frames).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    // 256 frames, the rest of the read that held the 256th, and the one read that the
    // socket takes before it stops: never libuv's 32 reads in a row.
    expect(most).toBeLessThanOrEqual(3 * READ);
    expect(turns).toBeGreaterThan(bytes / (3 * READ));
  }, 60_000);
});
