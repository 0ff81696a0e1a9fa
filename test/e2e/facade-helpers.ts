/**
 * What the façade's tests share: the two real recordings the issue names, imported once per
 * file, their frames as the archive holds them, and a WebSocket client that keeps every
 * message and can wait for one.
 */
import path from 'node:path';
import WebSocket from 'ws';
import { expect } from 'vitest';
import { planArchive, readArchive } from '../../replayer/read.ts';
import { real, runCli } from '../helpers.ts';

/** Imports the real BTCUSDT hftbacktest session (its first file: 346 s, 9,757 trades) into `dir`. */
export function importBtc(dir: string): string {
  const out = path.join(dir, 'btc');
  const imp = runCli(['import', real('binance/hftbacktest/btcusdt_20240808.gz'), '--format', 'hftbacktest', '--out', out]);
  expect(imp.code, imp.stderr).toBe(0);
  return out;
}

/** Imports the real Coinbase cryptofeed recording (10 products, 31 s) into `dir`. */
export function importCoinbase(dir: string): string {
  const out = path.join(dir, 'coinbase');
  const imp = runCli(['import', real('coinbase/cryptofeed/COINBASE.ws.28.0'), '--format', 'cryptofeed', '--out', out]);
  expect(imp.code, imp.stderr).toBe(0);
  return out;
}

/** The archive's received frames, exact text and receive time, in recorded order. */
export async function archiveFrames(archive: string): Promise<{ payload: string; recvNs: bigint }[]> {
  const out: { payload: string; recvNs: bigint }[] = [];
  for await (const ev of readArchive(await planArchive(archive))) if (ev.kind === 'frame') out.push({ payload: ev.payload, recvNs: ev.recvNs });
  return out;
}

export interface Client {
  readonly ws: WebSocket;
  readonly frames: string[];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  /** Resolves once `pred` holds of the frames received (checked on each frame); rejects if the socket closes first or after `ms`. */
  until(pred: (frames: readonly string[]) => boolean, ms?: number): Promise<void>;
}

export function client(url: string, opts: WebSocket.ClientOptions = {}): Client {
  const ws = new WebSocket(url, opts);
  const frames: string[] = [];
  const waiters: (() => void)[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => {
    resolve({ code, reason: String(reason) });
    for (const w of waiters) w();
  }));
  ws.on('message', (d) => {
    frames.push(String(d));
    for (const w of waiters) w();
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  return {
    ws, frames, closed, opened,
    until: (pred, ms = 20_000) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not seen within ${ms} ms; ${frames.length} frames`)), ms);
      const check = (): void => {
        if (pred(frames)) {
          clearTimeout(timer);
          resolve();
        } else if (isClosed || ws.readyState === ws.CLOSED) {
          clearTimeout(timer);
          reject(new Error(`closed after ${frames.length} frames`));
        }
      };
      waiters.push(check);
      check();
    }),
  };
}
