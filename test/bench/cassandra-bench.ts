/**
 * What `--sink cassandra://…` costs a replay at --speed max, on the demo's archive (15
 * simulated minutes, seed 42, default engine options) and on a 4-hour one (where the
 * fixed cost of the last write and the close no longer dominates): the same replay with
 * and without the sink, medians of 5, in process (the connection made beforehand, the last
 * row written and the client closed before the clock stops) and as whole CLI processes
 * (start-up, connect and schema check included). A section
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
import { medianMs, type Row } from './timing.ts';

export async function benchCassandra(row: Row, tmp: string, port = 19242): Promise<void> {
  const node = startCassandra(port);
  try {
    for (const minutes of [15, 240]) await benchOne(row, tmp, node, minutes);
  } finally {
    node.down();
  }
}

async function benchOne(row: Row, tmp: string, node: CassandraNode, minutes: number): Promise<void> {
  {
    const archive = path.join(tmp, `cassandra-demo-${minutes}`);
    const { events } = generateArchive({ minutes, seed: 42, out: archive, startMs: Date.UTC(2024, 7, 9) });
    const url = `cassandra://${node.hosts}/bench`;
    const target = parseCassandraUrl(url);
    let rows = 0;
    const withSink = async (): Promise<void> => {
      const sink = new CassandraSink(target, DEFAULT_CONFIG, { say: (l) => console.error(l) });
      await sink.open();
      const t0 = performance.now();
      await replay({ from: archive, out: path.join(tmp, 'c-sink'), speed: 'max', config: DEFAULT_CONFIG, sinks: [sink] });
      const r = await sink.close();
      if (r.unwritten > 0) throw new Error(`bench: ${r.unwritten} rows not written to Cassandra`);
      rows = Object.values(r.written).reduce((a, b) => a + b, 0);
      times.push(performance.now() - t0);
    };
    const times: number[] = [];
    await withSink(); // creates the keyspace and warms the node
    times.length = 0;
    const plainMs = await medianMs(5, () => replay({ from: archive, out: path.join(tmp, 'c-plain'), speed: 'max', config: DEFAULT_CONFIG }));
    for (let i = 0; i < 5; i++) await withSink();
    const sinkMs = times.sort((a, b) => a - b)[2]!;
    const rate = (ms: number): string => `${Math.round(events / (ms / 1000)).toLocaleString('en-US')} events/s`;
    row(`replay the demo, ${minutes} minutes (in process), no sink`, `${rate(plainMs)} (${events.toLocaleString('en-US')} events, ${(plainMs / 1000).toFixed(2)} s)`);
    row(`  with --sink Cassandra ${node.version} (connected beforehand)`, `${rate(sinkMs)} (${rows.toLocaleString('en-US')} rows written, all of them before the replay returned); cost ${(100 * (1 - plainMs / sinkMs)).toFixed(1)} % of throughput (goal ≤ 15 %)`);
    const cli = (extra: string[]): Promise<unknown> => Promise.resolve(spawnSync(process.execPath, [path.join(ROOT, 'src/cli/tapedeck.mjs'), 'replay', '--from', archive, '--out', path.join(tmp, 'c-cli'), ...extra], { env: { ...process.env, CI: '1' } }));
    const plainCli = await medianMs(3, () => cli([]));
    const sinkCli = await medianMs(3, () => cli(['--sink', url]));
    row('  the same as whole CLI processes (start-up, connect, schema check)', `${(plainCli / 1000).toFixed(2)} s without, ${(sinkCli / 1000).toFixed(2)} s with the sink`);
    fs.rmSync(archive, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-bench-cassandra-'));
  try {
    await benchCassandra((label, value) => console.log(`${label.padEnd(56)} ${value}`), tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
