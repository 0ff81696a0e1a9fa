/**
 * Stopping a connection that has fallen behind loses nothing already sent: frames the
 * exchange sent before it saw the recorder's close are still in the socket, and stop()
 * logs them all before the close (it used to give up 2 s after asking, a 1006 close, and
 * drop up to seconds of a saturated recorder's frames). A real ws server on loopback; the
 * recorder's side is slowed down by a log callback that takes its time, as a saturated
 * recorder's spool and engine do.
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

const FRAMES = 2_000;

describe('SupervisedConnection.stop', () => {
  it('logs every frame sent before the close, even when reading them takes longer than the old 2 s', async () => {
    let url: string;
    ({ server, url } = await burstServer(FRAMES, (i) => `{"n":${i},"pad":"${'x'.repeat(100)}"}`));
    const frames: number[] = [];
    const closes: string[] = [];
    let stopping: Promise<void> | undefined;
    let conn: SupervisedConnection;
    const until = (t: number): void => {
      while (performance.now() < t); // a slow reader: 2 ms a frame, 4 s for the burst
    };
    conn = new SupervisedConnection({
      exchange: 'x', url, subscribe: ['{"subscribe":true}'], silenceMs: 60_000, maxAgeMs: 3_600_000, attempts: { count: 5, windowMs: 60_000 },
      log: (kind, _c, payload, meta) => {
        if (kind === 'frame') {
          frames.push((JSON.parse(payload) as { n: number }).n);
          until(performance.now() + 2);
          // Stop as soon as the burst begins to arrive: nearly all of it is still in flight.
          stopping ??= conn.stop();
        }
        if (kind === 'close') closes.push(meta);
      },
    });
    conn.start();
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (stopping) {
          clearInterval(t);
          resolve();
        }
      }, 10);
    });
    await stopping;
    expect({ closes, frames: frames.length }).toEqual({ closes: ['1000 recorder stopping'], frames: FRAMES });
    expect(frames.length).toBe(FRAMES);
    expect(frames.every((n, i) => n === i)).toBe(true);
  }, 60_000);
});
