/**
 * A real Prometheus (Debian's `prometheus`; `.ci/run` installs it) scrapes a running
 * recorder with the shipped `deploy/prometheus.yml` (only the target's port substituted),
 * and its HTTP API answers the queries the README and the config's comments promise, with
 * non-zero values for each exchange.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { ROOT, sleep, startCli, tmpDir, type RunningCli } from '../helpers.ts';

const EXCHANGES = ['binance', 'coinbase'];

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

interface Sample { metric: Record<string, string>; value: [number, string] }

describe('Prometheus scraping a recorder with deploy/prometheus.yml', () => {
  let sim: Simulator;
  let rec: RunningCli;
  let prom: ChildProcess | undefined;
  let api = '';
  let promLog = '';
  const dir = tmpDir();

  async function query(q: string): Promise<Sample[]> {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = await res.json() as { status: string; data: { result: Sample[] } };
    expect(body.status, `${q}: ${JSON.stringify(body)}`).toBe('success');
    return body.data.result;
  }

  /**
   * The query's values by `exchange` label, polled until every `keys` has a non-zero value
   * (Prometheus needs two scrapes for a rate) or the time is up; then whatever it last said.
   */
  async function perExchange(q: string, keys: readonly string[] = EXCHANGES, timeoutMs = 60_000): Promise<Map<string, number>> {
    const t0 = Date.now();
    let last = new Map<string, number>();
    while (Date.now() - t0 < timeoutMs) {
      last = new Map((await query(q)).map((s) => [s.metric.exchange ?? '', Number(s.value[1])]));
      if (keys.every((x) => (last.get(x) ?? 0) > 0)) return last;
      await sleep(1_000);
    }
    return last;
  }

  beforeAll(async () => {
    const version = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
    if (version.error) throw new Error('prometheus is not installed: apt-get install prometheus (.ci/run does)');
    sim = await startSimulator({ exchanges: EXCHANGES, seed: 5, meanGapMs: 80 });
    rec = startCli([
      'record', '--exchanges', EXCHANGES.join(','), '--symbols', 'BTC-USD,ETH-USD', '--out', dir, '--metrics-port', '0',
      '--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`,
    ]);
    const target = (await rec.waitFor(/metrics at http:\/\/(127\.0\.0\.1:\d+)\/metrics/))[1]!;
    const shipped = fs.readFileSync(path.join(ROOT, 'deploy/prometheus.yml'), 'utf8');
    expect(shipped, 'the shipped config scrapes the default --metrics-port').toContain("'127.0.0.1:9464'");
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(config, shipped.replace("'127.0.0.1:9464'", `'${target}'`));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prom = spawn('prometheus', [
      `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (d) => (promLog += String(d)));
    prom.stderr!.on('data', (d) => (promLog += String(d)));
    for (let i = 0; ; i++) {
      const ready = await fetch(`${api}/-/ready`).then((r) => r.ok, () => false);
      if (ready) break;
      if (i > 300 || prom.exitCode !== null) throw new Error(`prometheus did not start: ${promLog.slice(-2000)}`);
      await sleep(100);
    }
  }, 60_000);

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const gone = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await gone;
    }
    if (rec && rec.child.exitCode === null) {
      rec.child.kill('SIGTERM');
      await rec.exited;
    }
    await sim?.close();
  });

  it('scrapes the recorder: the target is up', async () => {
    const up = await perExchange('up{job="tapedeck"}', [''], 30_000);
    expect([...up.values()], promLog.slice(-2000)).toEqual([1]);
  }, 40_000);

  it('rate(tapedeck_frames_total[30s]) is non-zero for each exchange', async () => {
    const rates = await perExchange('rate(tapedeck_frames_total[30s])');
    for (const x of EXCHANGES) expect(rates.get(x), `${x} frames/s as Prometheus computes it`).toBeGreaterThan(0);
    expect([...rates.keys()].sort(), 'one series per exchange, labelled').toEqual(EXCHANGES);
  }, 70_000);

  it('tapedeck_commit_latency_seconds quantiles are non-zero and plausible for each exchange', async () => {
    for (const q of [0.5, 0.99]) {
      const latency = await perExchange(`histogram_quantile(${q}, rate(tapedeck_commit_latency_seconds_bucket[30s]))`);
      for (const x of EXCHANGES) {
        const v = latency.get(x);
        expect(v, `${x} p${q * 100} arrival → commit`).toBeGreaterThan(0);
        // Commits run every 50 ms: a quantile past the top bucket (1 s) would mean a stuck spool.
        expect(v, `${x} p${q * 100} within the histogram`).toBeLessThanOrEqual(1);
      }
    }
    const count = await perExchange('tapedeck_commit_latency_seconds_count');
    for (const x of EXCHANGES) expect(count.get(x)).toBeGreaterThan(10);
  }, 130_000);
});
