/**
 * `npm run bench`: prints throughput figures and ratios. Never run by the test suite and
 * never asserted: speed is measured here, correctness in the tests.
 *
 *   replay --speed max over the imported real BTCUSDT session (events/s), beside a loop
 *   that only JSON-parses the same frames, and their ratio.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planArchive, readArchive } from '../../replayer/read.ts';
import { replay } from '../../replayer/replay.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import { importRecordings } from '../../src/importers/import.ts';
import { record } from '../../recorder/record.ts';
import { backtest } from '../../replayer/backtest.ts';
import { DEFAULT_EXECUTION } from '../../strategies/execution.ts';
import { readKafka } from '../../replayer/kafka-source.ts';
import { ensureTopic, kafkaClient, toMessages } from '../../src/storage/kafka.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { realFixturesDir, startCli } from '../helpers.ts';
import { SKIP_KAFKA, startBroker } from '../kafka/broker.ts';

const real = realFixturesDir();
if (!real) {
  console.error('bench: set TAPEDECK_REAL_FIXTURES to the real recordings folder');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-bench-'));
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const row = (label: string, value: string): void => console.log(`${label.padEnd(48)} ${value}`);

async function best<T>(runs: number, fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  let bestMs = Infinity;
  let result!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = await fn();
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  return { ms: bestMs, result };
}

try {
  console.log(`tapedeck bench — node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}\n`);
  const files = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => path.join(real, 'binance/hftbacktest', f));
  const archive = path.join(tmp, 'raw');
  const imp = await best(1, () => importRecordings(files, { format: 'hftbacktest', out: archive }));
  const events = imp.result.reduce((n, s) => n + s.events, 0);
  row('import hftbacktest BTCUSDT (2 files)', `${fmt(events / (imp.ms / 1000))} events/s (${fmt(events)} events)`);

  const rep = await best(3, () => replay({ from: archive, out: path.join(tmp, 'out'), speed: 'max', config: DEFAULT_CONFIG }));
  const replayRate = rep.result.manifest.events / (rep.ms / 1000);
  row('replay --speed max (read+merge+decode+engine+write)', `${fmt(replayRate)} events/s`);

  const frames: string[] = [];
  for await (const ev of readArchive(await planArchive(archive))) frames.push(ev.payload);
  const read = await best(3, async () => {
    let n = 0;
    for await (const _ of readArchive(await planArchive(archive))) n++;
    return n;
  });
  row('  of which archive read + merge alone', `${fmt(read.result / (read.ms / 1000))} events/s`);
  const parse = await best(5, async () => {
    let n = 0;
    for (const f of frames) if ((JSON.parse(f) as object) !== null) n++;
    return n;
  });
  const parseRate = parse.result / (parse.ms / 1000);
  row('JSON.parse loop over the same frames', `${fmt(parseRate)} events/s`);
  row('ratio replay / JSON.parse', `${(replayRate / parseRate).toFixed(3)}`);

  // Backtests: each example strategy over the same archive, full pipeline + strategy + writes.
  console.log('');
  for (const name of ['ma-cross', 'rsi-reversion', 'arb-taker']) {
    const r = await best(2, () => backtest({
      from: archive, out: path.join(tmp, `bt-${name}`), strategy: name, params: {}, config: DEFAULT_CONFIG, execution: DEFAULT_EXECUTION,
    }));
    row(`backtest ${name} (BTCUSDT session)`, `${fmt(r.result.events / (r.ms / 1000))} events/s (${r.result.report.trades} fills)`);
  }

  // Kafka: produce the BTCUSDT session's LogEvents to a 4-partition topic with the
  // recorder's producer settings, then replay from the topic.
  if (!SKIP_KAFKA) {
    console.log('');
    const broker = startBroker(19192);
    try {
      const events: LogEvent[] = [];
      for await (const ev of readArchive(await planArchive(archive))) events.push(ev);
      const kafka = kafkaClient(broker.brokers.split(','), 'tapedeck-bench');
      const admin = kafka.admin();
      await admin.connect();
      const topic = `bench-${Date.now()}.raw`;
      await ensureTopic(admin, topic, 4);
      await admin.disconnect();
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const t0 = performance.now();
      for (let i = 0; i < events.length; i += 2_000) {
        await producer.send({ topic, acks: -1, messages: events.slice(i, i + 2_000).flatMap((ev) => toMessages(ev, 4)) });
      }
      const produceMs = performance.now() - t0;
      await producer.disconnect();
      row(`produce to Kafka ${broker.version} (idempotent, acks=all, 2k batches)`, `${fmt(events.length / (produceMs / 1000))} LogEvents/s`);
      const r = await best(1, () => replay({ from: `kafka://${broker.brokers}/${topic}`, out: path.join(tmp, 'from-kafka'), speed: 'max', config: DEFAULT_CONFIG }));
      row('replay --speed max from Kafka (incl. group join)', `${fmt(r.result.manifest.events / (r.ms / 1000))} events/s`);
      const t1 = performance.now();
      const read = await readKafka({ brokers: broker.brokers.split(','), topic });
      const n = [...read.sessions.values()].reduce((a, l) => a + l.length, 0);
      row('  of which reading the topic alone', `${fmt(n / ((performance.now() - t1) / 1000))} events/s`);
    } finally {
      broker.down();
    }
  }

  // The recorder: the simulator (its own process) floods loopback; the recorder stores
  // every frame (spool + archive) and runs the live engine. Once at a steady busy rate,
  // once past what it can take.
  for (const [label, meanGapMs] of [['steady', 0.25], ['saturated', 0.04]] as const) {
    console.log('');
    const sim = startCli(['simulate', '--port', '0', '--mean-gap', String(meanGapMs), '--seed', '3']);
    const urls = await sim.waitFor(/binance: (\S+)[\s\S]*coinbase: (\S+)/);
    const seconds = 15;
    const rec = await record({
      exchanges: ['binance', 'coinbase'], symbols: ['BTC-USD', 'ETH-USD'], out: path.join(tmp, `rec-${label}`), durationMs: seconds * 1000,
      endpoints: { binance: { ws: urls[1]!, rest: urls[1]!.replace(/^ws/, 'http') }, coinbase: { ws: urls[2]!, rest: urls[2]!.replace(/^ws/, 'http') } },
      config: DEFAULT_CONFIG, metrics: null,
    });
    sim.child.kill('SIGINT');
    await sim.exited;
    const recorded = rec.manifest.stats.byKind.frame ?? 0;
    row(`recorder ingest, ${label} (offered ≈ ${fmt(4 * 1000 / meanGapMs)} frames/s)`, `${fmt(recorded / seconds)} frames/s (${fmt(recorded)} in ${seconds} s)`);
    row('  frame arrival → spool commit', `p50 ${rec.commitLatencyMs.p50.toFixed(1)} ms, p99 ${rec.commitLatencyMs.p99.toFixed(1)} ms, max ${rec.commitLatencyMs.max.toFixed(1)} ms`);
    row('  peak RSS of the process so far', `${fmt(process.resourceUsage().maxRSS / 1024)} MiB`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
