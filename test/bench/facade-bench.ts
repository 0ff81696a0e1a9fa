/**
 * What the replay façade (`simulate --from`) sustains, on the real BTCUSDT session (both
 * hftbacktest files: 99,573 frames and one REST snapshot over 650 s): loading the archive, then one WebSocket
 * client and one `GET /replay` client each served the whole session at 10,000x (faster
 * than the façade can go, so the figure is its ceiling), medians of 3. A section of
 * `npm run bench` (TAPEDECK_BENCH_SKIP=facade leaves it out); alone:
 * `node --import tsx test/bench/facade-bench.ts` (TAPEDECK_REAL_FIXTURES set).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startSimulator } from '../../replayer/simulator/server.ts';
import { importRecordings } from '../../src/importers/import.ts';
import { medianMs, type Row, runAlone } from './timing.ts';

export async function benchFacade(row: Row, tmp: string, real: string): Promise<void> {
  const archive = path.join(tmp, 'facade-btc');
  await importRecordings(['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => path.join(real, 'binance/hftbacktest', f)), { format: 'hftbacktest', out: archive });
  let frames = 0;
  const loadMs = await medianMs(3, async () => {
    const sim = await startSimulator({ exchanges: ['binance'], seed: 1, from: archive, speed: 10_000 });
    await sim.close();
  });
  const sim = await startSimulator({ exchanges: ['binance'], seed: 1, from: archive, speed: 10_000 });
  try {
    const wsMs = await medianMs(3, () => new Promise<void>((resolve, reject) => {
      let n = 0;
      const ws = new WebSocket(`${sim.wsUrl('binance')}/stream?streams=btcusdt@trade/btcusdt@bookTicker/btcusdt@depth@100ms`);
      ws.on('message', () => n++);
      ws.on('error', reject);
      ws.on('close', () => {
        frames = n;
        resolve();
      });
    }));
    let lines = 0;
    const httpMs = await medianMs(3, async () => {
      const r = await fetch(`http://${sim.host}:${sim.port}/replay?exchange=binance`);
      lines = (await r.text()).split('\n').length - 1;
    });
    const rate = (n: number, ms: number): string => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')} frames/s`;
    row('façade: start-up, loading the BTCUSDT session (in process)', `${(loadMs / 1000).toFixed(2)} s`);
    row('façade: whole session to one WebSocket client at 10,000x', `${rate(frames, wsMs)} (${frames.toLocaleString('en-US')} frames in ${(wsMs / 1000).toFixed(2)} s; ${(650_000 / wsMs).toFixed(0)}x the recorded pace)`);
    row('façade: whole session as GET /replay NDJSON at 10,000x', `${rate(lines, httpMs)} (${lines.toLocaleString('en-US')} lines in ${(httpMs / 1000).toFixed(2)} s)`);
  } finally {
    await sim.close();
  }
}

if (runAlone(import.meta.url)) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-bench-facade-'));
  try {
    const real = process.env.TAPEDECK_REAL_FIXTURES;
    if (!real) throw new Error('set TAPEDECK_REAL_FIXTURES');
    await benchFacade((label, value) => console.log(`${label.padEnd(56)} ${value}`), tmp, real);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
