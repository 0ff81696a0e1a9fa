/**
 * What the simulator's flood mode offers: `tapedeck simulate --rate 150k` (its own process)
 * for 60 s (issue 12's length; a first argument changes it), one local WebSocket consumer per exchange (each its own process,
 * flood-consumer.ts, counting frames, not decoding them). Figures from the simulator's own counters (GET /_stats): frames actually
 * handed to sockets per second across both exchanges, frames missed by a consumer that fell
 * behind (sent + missed is what the market released, the simulator's own pace), how far the market's release lagged wall time (largest of the 1 s samples, and at
 * the end), and the simulator process's own RSS (largest sample). A section of `npm run bench`
 * (TAPEDECK_BENCH_SKIP=flood leaves it out); alone: `node --import tsx test/bench/flood-bench.ts [seconds]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { FloodStats } from '../../replayer/simulator/flood.ts';
import { ROOT, startCli, sleep } from '../helpers.ts';
import { runAlone, type Row } from './timing.ts';

const RATE = 150_000;

interface Stats { flood: FloodStats; rssBytes: number }

export async function benchFlood(row: Row, seconds = 60): Promise<void> {
  const sim = startCli(['simulate', '--port', '0', '--rate', String(RATE), '--seed', '3']);
  const consumers: { child: ChildProcess; out: string }[] = [];
  try {
    const urls = await sim.waitFor(/binance: (\S+)[\s\S]*coinbase: (\S+)[\s\S]*counters: GET (\S+)/);
    const stats = async (): Promise<Stats> => (await (await fetch(urls[3]!)).json()) as Stats;
    const consume = (...args: string[]): Promise<void> => new Promise((resolve, reject) => {
      const c = { child: spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/bench/flood-consumer.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] }), out: '' };
      consumers.push(c);
      c.child.stdout!.on('data', (d) => {
        c.out += String(d);
        if (c.out.includes('open')) resolve();
      });
      c.child.on('exit', (code) => reject(new Error(`flood consumer exited ${code}`)));
    });
    await Promise.all([
      consume(`${urls[1]!}/stream?streams=btcusdt@trade/ethusdt@trade/btcusdt@bookTicker/ethusdt@bookTicker`),
      consume(urls[2]!, '{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["matches","ticker"]}'),
    ]);
    const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
    const first = await stats();
    const t0 = performance.now();
    let maxLagMs = 0;
    let maxRss = first.rssBytes;
    let last = first;
    for (let i = 0; i < seconds; i++) {
      await sleep(1_000);
      last = await stats();
      maxLagMs = Math.max(maxLagMs, last.flood.lagMs);
      maxRss = Math.max(maxRss, last.rssBytes);
    }
    const secs = (performance.now() - t0) / 1000;
    const received = (await Promise.all(consumers.map(async (c) => {
      // A consumer that has already exited (it failed; its line is on stderr) counts what it printed.
      const exited = c.child.exitCode !== null || c.child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => c.child.once('exit', resolve));
      c.child.kill('SIGTERM');
      await exited;
      return Number(/frames (\d+)/.exec(c.out)?.[1] ?? 0);
    }))).reduce((a, b) => a + b, 0);
    const sent = total(last.flood.sent) - total(first.flood.sent);
    const dropped = total(last.flood.dropped) - total(first.flood.dropped);
    const perExchange = Object.keys(last.flood.sent).map((x) => `${x} ${Math.round((last.flood.sent[x]! - first.flood.sent[x]!) / secs).toLocaleString('en-US')}`).join(', ');
    const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
    row(`simulate --rate ${fmt(RATE / 1000)}k for ${seconds} s, offered (sent, measured at the simulator)`, `${fmt(sent / secs)} frames/s (goal ≥ ${fmt(RATE)}: ${(sent / secs / RATE).toFixed(2)}×; ${perExchange})`);
    row('  released by the market (sent + missed by a slow consumer)', `${fmt((sent + dropped) / secs)} frames/s (${((sent + dropped) / secs / RATE).toFixed(2)}× the target)`);
    row('  kept up with wall time?', `lag max ${fmt(maxLagMs)} ms, at the end ${fmt(last.flood.lagMs)} ms (${maxLagMs < 1_000 ? 'kept up' : 'fell behind'}); the consumers missed ${fmt(dropped)} frames (they read ${fmt(received / secs)}/s, counted from their connection)`);
    row('  the simulator process\'s RSS', `${fmt(maxRss / 2 ** 20)} MiB at most (1 s samples); largest backlog ${fmt(last.flood.peakBacklogBytes / 1024)} KiB`);
  } finally {
    for (const c of consumers) c.child.kill('SIGKILL');
    sim.child.kill('SIGINT');
    await sim.exited;
  }
}

if (runAlone(import.meta.url)) {
  await benchFlood((label, value) => console.log(`${label.padEnd(56)} ${value}`), Number(process.argv[2] ?? 60));
}
