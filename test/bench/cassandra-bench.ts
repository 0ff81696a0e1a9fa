/**
 * What `--sink cassandra://…` costs a replay at --speed max, on the demo's archive (15
 * simulated minutes, seed 42, default engine options) and on a 4-hour one (where the
 * fixed cost of the last write and the close no longer dominates): the same replay with
 * and without the sink, one of each in turn (the machine's load moves), medians of 7, in
 * process (the connection made beforehand, the last row written and the client closed
 * before the clock stops), with the CPU time of the replay and of the Cassandra node (which
 * shares the cores here), and as whole CLI processes (start-up, connect and schema check
 * included; medians of 3). A section
 * of `npm run bench` (TAPEDECK_BENCH_SKIP=cassandra leaves it out); alone:
 * `node --import tsx test/bench/cassandra-bench.ts` (CASSANDRA_HOSTS, or a node of its own).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { replay } from '../../replayer/replay.ts';
import { generateArchive } from '../../src/cli/demo.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import { CassandraSink, parseCassandraUrl } from '../../src/storage/cassandra.ts';
import { ROOT } from '../helpers.ts';
import { startCassandra, type CassandraNode } from '../cassandra/node.ts';
import { runAlone, type Row } from './timing.ts';

export async function benchCassandra(row: Row, tmp: string, port = 19242): Promise<void> {
  const node = startCassandra(port);
  try {
    for (const minutes of [15, 240]) await benchOne(row, tmp, node, minutes);
  } finally {
    node.down();
  }
}

/** CPU time (user + system, ms) of the Cassandra node this script manages on `port`, when it can be read (Linux /proc). */
function nodeCpuMs(port: number): number | undefined {
  try {
    const pid = fs.readFileSync(path.join(process.env.CASSANDRA_RUN_DIR ?? `/tmp/tapedeck-cassandra-${port}`, 'cassandra.pid'), 'utf8').trim();
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
  } catch {
    return undefined;
  }
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function benchOne(row: Row, tmp: string, node: CassandraNode, minutes: number): Promise<void> {
  const archive = path.join(tmp, `cassandra-demo-${minutes}`);
  const { events } = generateArchive({ minutes, seed: 42, out: archive, startMs: Date.UTC(2024, 7, 9) });
  const url = `cassandra://${node.hosts}/bench`;
  const target = parseCassandraUrl(url);
  let rows = 0;
  const plain = async (): Promise<void> => void await replay({ from: archive, out: path.join(tmp, 'c-plain'), speed: 'max', config: DEFAULT_CONFIG });
  const withSink = async (): Promise<void> => {
    const sink = new CassandraSink(target, DEFAULT_CONFIG, { say: (l) => console.error(l) });
    await sink.open();
    const t0 = performance.now();
    const c0 = cpuMs();
    const j0 = nodeCpuMs(node.port);
    await replay({ from: archive, out: path.join(tmp, 'c-sink'), speed: 'max', config: DEFAULT_CONFIG, sinks: [sink] });
    const r = await sink.close();
    if (r.unwritten > 0) throw new Error(`bench: ${r.unwritten} rows not written to Cassandra`);
    rows = Object.values(r.written).reduce((a, b) => a + b, 0);
    times.sink.push(performance.now() - t0);
    cpu.sink.push(cpuMs() - c0);
    const j1 = nodeCpuMs(node.port);
    if (j0 !== undefined && j1 !== undefined) jvm.push(j1 - j0);
  };
  const times = { plain: [] as number[], sink: [] as number[] };
  const cpu = { plain: [] as number[], sink: [] as number[] };
  const jvm: number[] = [];
  await withSink(); // creates the keyspace and warms the node
  await plain();
  times.sink.length = 0;
  cpu.sink.length = 0;
  jvm.length = 0;
  // Side by side, one of each in turn: on a shared machine the load moves, and both see the same.
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    await plain();
    times.plain.push(performance.now() - t0);
    cpu.plain.push(cpuMs() - c0);
    await withSink();
  }
  const [plainMs, sinkMs] = [median(times.plain), median(times.sink)];
  const rate = (ms: number): string => `${Math.round(events / (ms / 1000)).toLocaleString('en-US')} events/s`;
  row(`replay the demo, ${minutes} minutes (in process), no sink`, `${rate(plainMs)} (${events.toLocaleString('en-US')} events, ${(plainMs / 1000).toFixed(2)} s; CPU ${median(cpu.plain).toFixed(0)} ms)`);
  row(`  with --sink Cassandra ${node.version} (connected beforehand)`, `${rate(sinkMs)} (${rows.toLocaleString('en-US')} rows written, all of them before the replay returned); cost ${(100 * (1 - plainMs / sinkMs)).toFixed(1)} % of throughput (goal ≤ 15 %)`);
  row('  CPU of the replay with the sink; of the Cassandra node', `${median(cpu.sink).toFixed(0)} ms (+${(100 * (median(cpu.sink) / median(cpu.plain) - 1)).toFixed(1)} %); ${jvm.length > 0 ? `${median(jvm).toFixed(0)} ms (on the same cores here)` : 'not measured (not a node this script runs)'}`);
  const cli = (extra: string[]): Promise<unknown> => Promise.resolve(spawnSync(process.execPath, [path.join(ROOT, 'src/cli/tapedeck.mjs'), 'replay', '--from', archive, '--out', path.join(tmp, 'c-cli'), ...extra], { env: { ...process.env, CI: '1' } }));
  const cliTimes = { plain: [] as number[], sink: [] as number[] };
  for (let i = 0; i < 3; i++) {
    for (const [k, extra] of [['plain', []], ['sink', ['--sink', url]]] as const) {
      const t0 = performance.now();
      await cli([...extra]);
      cliTimes[k].push(performance.now() - t0);
    }
  }
  row('  the same as whole CLI processes (start-up, connect, schema check)', `${(median(cliTimes.plain) / 1000).toFixed(2)} s without, ${(median(cliTimes.sink) / 1000).toFixed(2)} s with the sink`);
  fs.rmSync(archive, { recursive: true, force: true });
}

if (runAlone(import.meta.url)) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-bench-cassandra-'));
  try {
    await benchCassandra((label, value) => console.log(`${label.padEnd(56)} ${value}`), tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
