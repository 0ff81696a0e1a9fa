/**
 * `simulate --tls` (issue 13 §5): tapedeck makes a self-signed certificate, says how to trust
 * it, and serves https:// and wss://; unmodified ccxt, trusting it through
 * NODE_EXTRA_CA_CERTS only, loads markets and watches trades over wss:// with no
 * `loadHttpProxyAgent()`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REAL, ROOT, startCli, tmpDir, type RunningCli } from '../helpers.ts';
import { archiveFrames, importBtc } from './facade-helpers.ts';

describe.skipIf(!REAL)('simulate --tls', () => {
  const dir = tmpDir();
  const home = path.join(dir, 'home');
  let btc: string;
  let sim: RunningCli;
  let urls: { ws: string; rest: string; cert: string };

  beforeAll(async () => {
    btc = importBtc(dir);
    sim = startCli(['simulate', '--from', btc, '--exchanges', 'binance', '--port', '0', '--tls', '--speed', '20x'], { HOME: home });
    const ws = (await sim.waitFor(/binance: (wss:\/\/\S+)\s+\(REST (https:\/\/\S+)\)/))!;
    const cert = (await sim.waitFor(/NODE_EXTRA_CA_CERTS=(\S+)/))[1]!;
    urls = { ws: ws[1]!, rest: ws[2]!, cert };
  }, 120_000);
  afterAll(async () => {
    sim?.child.kill('SIGTERM');
    await sim?.exited;
  });

  it('makes the certificate under ~/.tapedeck/tls and serves wss:// to a client that trusts it', async () => {
    expect(urls.cert).toBe(path.join(home, '.tapedeck', 'tls', 'cert.pem'));
    const ca = fs.readFileSync(urls.cert);
    const first = (await archiveFrames(btc)).find((f) => f.payload.startsWith('{"stream":"btcusdt@trade"'))!.payload;
    const got = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`${urls.ws}/stream?streams=btcusdt@trade`, { ca });
      ws.once('message', (d) => {
        resolve(String(d));
        ws.close();
      });
      ws.once('error', reject);
    });
    expect(got).toBe(first);
    const untrusted = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${urls.ws}/stream?streams=btcusdt@trade`);
      ws.once('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
      ws.once('open', () => resolve('open'));
    });
    expect(untrusted, 'a client that does not trust it is refused').toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('unmodified ccxt uses https:// and wss:// unchanged once NODE_EXTRA_CA_CERTS names the certificate', async () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'test/e2e/ccxt-wss-client.mjs'), urls.rest, urls.ws], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: urls.cert },
    });
    expect(r.status, r.stderr).toBe(0);
    const trades = (await archiveFrames(btc)).filter((f) => f.payload.startsWith('{"stream":"btcusdt@trade"')).slice(0, 5)
      .map((f) => String((JSON.parse(f.payload) as { data: { t: number } }).data.t));
    expect(JSON.parse(r.stdout)).toEqual({ markets: ['BTC/USDT'], ids: trades });
  });
});
