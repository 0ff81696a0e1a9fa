/**
 * The Kafka client comparison (issue 12): produce throughput of the LogEvent records
 * tapedeck produces (idempotent, acks=all, a 4-partition topic, symbol-less events to every
 * partition) against one broker, per client and setting, in one run:
 *
 * - kafkajs as tapedeck used it before (2,000 events per request, one request at a time);
 * - kafkajs tuned (PRODUCE_TUNED: larger requests cut per partition), with gzip, with
 *   several requests in flight, and on Node >= 22 (to tell the client from the runtime);
 * - @platformatic/kafka, on Node >= 22 (TAPEDECK_BENCH_NODE, else the newest Node >= 22
 *   that .ci/run cached in ~/.cache/tapedeck/node-*; without one the row says so);
 * - tapedeck's own producer (src/storage/kafka-produce.ts, the recorder's), with the tuned
 *   cuts and with 8k-event requests;
 * - Kafka's own ProducerPerformance (kafka-tools, fetched by `kafka.sh tools`) on the same
 *   payloads and record count, idempotent, acks=all, default batching: the ceiling.
 *
 * Each variant runs in a process of its own (test/bench/kafka-produce.ts), to a fresh
 * topic, TAPEDECK_BENCH_CLIENT_ROUNDS times (default 3) in turn with the others, so
 * that load from elsewhere on the machine falls on all of them alike; the median is
 * printed. TAPEDECK_BENCH_CLIENT_EVENTS sets the number of LogEvents (default 200,000).
 * A section of `npm run bench` (TAPEDECK_BENCH_SKIP=clients leaves it out); alone:
 * `node --import tsx test/bench/kafka-clients.ts` (KAFKA_BROKERS, or a broker of its own).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runAlone, type Row } from './timing.ts';
import { planArchive, readArchiveBatches } from '../../replayer/read.ts';
import { generateArchive } from '../../src/cli/demo.ts';
import { ensureTopic, kafkaClient, partitionsFor, PRODUCE_BEFORE, PRODUCE_TUNED, type ProduceSettings } from '../../src/storage/kafka.ts';
import { ROOT } from '../helpers.ts';
import { startBroker } from '../kafka/broker.ts';


export const PARTITIONS = 4;

export interface ClientVariant {
  readonly name: string;
  readonly label: string;
  readonly client: 'kafkajs' | 'platformatic' | 'tapedeck';
  readonly settings: ProduceSettings;
  /** Produce requests in flight at once. */
  readonly inFlight: number;
  /** Runs on Node >= 22. */
  readonly modernNode?: boolean;
}

const kjs = (name: string, label: string, settings: ProduceSettings, more: Partial<ClientVariant> = {}): ClientVariant =>
  ({ name, label: `kafkajs ${label}`, client: 'kafkajs', settings, inFlight: 1, ...more });
const LARGE: ProduceSettings = { maxEvents: 8_000, maxPartitionBytes: 768 * 1024, compression: 'none' };
export const CLIENT_VARIANTS: readonly ClientVariant[] = [
  kjs('before', 'as before (2k events per request)', PRODUCE_BEFORE),
  kjs('500', '500 events per request', { ...PRODUCE_TUNED, maxEvents: 500 }),
  kjs('large', '8k events, ≤ 768 KiB per partition', LARGE),
  kjs('gzip', `${PRODUCE_TUNED.maxEvents / 1000}k events + gzip`, { ...PRODUCE_TUNED, compression: 'gzip' }),
  kjs('inflight', `${PRODUCE_TUNED.maxEvents / 1000}k events, 3 requests in flight`, PRODUCE_TUNED, { inFlight: 3 }),
  kjs('tuned', `tuned (${PRODUCE_TUNED.maxEvents / 1000}k events, ≤ ${PRODUCE_TUNED.maxPartitionBytes / 1024} KiB per partition) — TAPEDECK_KAFKA_PRODUCER=kafkajs`, PRODUCE_TUNED),
  kjs('tuned-modern', 'tuned, on Node NEW', PRODUCE_TUNED, { modernNode: true }),
  { name: 'platformatic', label: '@platformatic/kafka (tuned cuts), on Node NEW', client: 'platformatic', settings: PRODUCE_TUNED, inFlight: 1, modernNode: true },
  { name: 'tapedeck', label: 'tapedeck\'s own, tuned (the same cuts) — the recorder\'s', client: 'tapedeck', settings: PRODUCE_TUNED, inFlight: 1 },
  { name: 'tapedeck-large', label: 'tapedeck\'s own, 8k events, ≤ 768 KiB per partition', client: 'tapedeck', settings: LARGE, inFlight: 1 },
];

/** A Node >= 22 to run @platformatic/kafka on, or undefined. */
function modernNode(): string | undefined {
  if (process.env.TAPEDECK_BENCH_NODE) return process.env.TAPEDECK_BENCH_NODE;
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  const cache = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tapedeck');
  const found = (fs.existsSync(cache) ? fs.readdirSync(cache) : [])
    .map((d) => /^node-(\d+)\.(\d+)\.(\d+)$/.exec(d)).filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= 22)
    .sort((a, b) => Number(b[1]) - Number(a[1]) || Number(b[2]) - Number(a[2]) || Number(b[3]) - Number(a[3]))
    .map((m) => path.join(cache, m[0], 'bin/node')).find((f) => fs.existsSync(f));
  return found;
}

/** ProducerPerformance on `records` records drawn from the payloads; records/s. */
function producerPerformance(brokers: string, topic: string, records: number, payloads: string, classpath: string): number {
  const r = spawnSync('java', [
    '-Xmx512m', '-cp', classpath, 'org.apache.kafka.tools.ProducerPerformance', '--topic', topic,
    '--num-records', String(records), '--throughput', '-1', '--payload-file', payloads,
    '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all', 'enable.idempotence=true',
  ], { encoding: 'utf8' });
  const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(r.stdout.trim().split('\n').at(-1) ?? '');
  if (r.status !== 0 || !m) throw new Error(`ProducerPerformance failed: ${r.stderr.slice(-500)}`);
  return Number(m[2]);
}

export async function benchKafkaClients(row: Row, tmp: string, brokers: string): Promise<void> {
  const n = Number(process.env.TAPEDECK_BENCH_CLIENT_EVENTS ?? 200_000);
  const rounds = Number(process.env.TAPEDECK_BENCH_CLIENT_ROUNDS ?? 3);
  const dir = path.join(tmp, 'clients-gen');
  generateArchive({ minutes: Math.ceil(n / 1_650), out: dir });
  const file = path.join(tmp, 'clients-events.jsonl');
  const payloads = path.join(tmp, 'clients-payloads.txt');
  const lines: string[] = [];
  const frames: string[] = [];
  let records = 0;
  for await (const batch of readArchiveBatches(await planArchive(dir))) {
    for (const ev of batch) {
      if (lines.length === n) break;
      lines.push(JSON.stringify({ ...ev, recvNs: String(ev.recvNs) }));
      records += partitionsFor(ev, PARTITIONS).length;
      if (ev.payload !== '' && !ev.payload.includes('\n')) frames.push(ev.payload);
    }
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  fs.writeFileSync(payloads, frames.join('\n'));
  fs.rmSync(dir, { recursive: true, force: true });

  const node22 = modernNode();
  const node22Version = node22 ? execFileSync(node22, ['--version'], { encoding: 'utf8' }).trim() : '';
  const classpath = execFileSync('bash', [path.join(ROOT, 'test/kafka/kafka.sh'), 'tools'], { encoding: 'utf8' }).trim();
  const kafka = kafkaClient(brokers.split(','), 'tapedeck-bench');
  const admin = kafka.admin();
  await admin.connect();
  const freshTopic = async (): Promise<string> => {
    const topic = `clients-${process.hrtime.bigint()}`;
    await ensureTopic(admin, topic, PARTITIONS);
    return topic;
  };
  const runs = new Map<string, number[]>();
  const add = (name: string, rate: number): void => void runs.set(name, [...(runs.get(name) ?? []), rate]);
  try {
    for (let r = 0; r < rounds; r++) {
      for (const v of CLIENT_VARIANTS) {
        if (v.modernNode && !node22) continue;
        const exe = v.modernNode ? node22! : process.execPath;
        const out = execFileSync(exe, ['--import', 'tsx', path.join(ROOT, 'test/bench/kafka-produce.ts'), v.name, brokers, await freshTopic(), file], { encoding: 'utf8', cwd: ROOT });
        const res = JSON.parse(out.trim().split('\n').at(-1)!) as { ms: number; cpuMs: number; events: number; records: number };
        add(v.name, res.events / (res.ms / 1000));
        add(`${v.name}:cpu`, (1000 * res.cpuMs) / res.events);
        add(`${v.name}:records`, res.records / (res.ms / 1000));
      }
      add('ceiling', producerPerformance(brokers, await freshTopic(), records, payloads, classpath));
    }
  } finally {
    await admin.disconnect();
  }
  const median = (name: string): number => {
    const all = [...runs.get(name)!].sort((a, b) => a - b);
    return all[Math.floor(all.length / 2)]!;
  };
  const ceiling = median('ceiling');
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  console.log(`   ${fmt(n)} LogEvents = ${fmt(records)} records (avg payload ${fmt(frames.reduce((s, f) => s + f.length, 0) / frames.length)} B), median of ${rounds} rounds`);
  for (const v of CLIENT_VARIANTS) {
    const label = v.label.replace('NEW', node22Version);
    if (v.modernNode && !node22) {
      row(label, 'not run: no Node >= 22 (set TAPEDECK_BENCH_NODE, or let .ci/run cache one)');
      continue;
    }
    const rec = median(`${v.name}:records`);
    row(label, `${fmt(median(v.name))} LogEvents/s, ${fmt(rec)} records/s (${(rec / ceiling).toFixed(2)}× ProducerPerformance; goal ≥ 0.8×), CPU ${median(`${v.name}:cpu`).toFixed(1)} µs per LogEvent`);
  }
  row('Kafka ProducerPerformance (the same payloads, no headers)', `${fmt(ceiling)} records/s`);
  row('@confluentinc/kafka-javascript (librdkafka)', 'not tried: no prebuilt binary from the registries, and no time for a source build');
}

if (runAlone(import.meta.url)) {
  const broker = startBroker(19192);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-clients-'));
  try {
    await benchKafkaClients((label, value) => console.log(`${label.padEnd(56)} ${value}`), tmp, broker.brokers);
  } finally {
    broker.down();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
