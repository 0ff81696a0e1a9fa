/**
 * `npm run bench`: prints throughput figures and ratios. Never run by the test suite and
 * never asserted: speed is measured here, correctness in the tests.
 *
 * Figures are medians (of 3, or 5 for the cheap ones; single runs on the big archive),
 * measured in one run so that they compare side by side on a noisy shared machine. "CLI"
 * figures time the whole `tapedeck` process, start-up included, as a user gets it; peak
 * RSS is that process's own. Set TAPEDECK_BENCH_EVENTS for the size of the generated
 * archive (default 10M events), TAPEDECK_BENCH_KAFKA_EVENTS for the Kafka topic's (default
 * 1M; the recorder's producer runs at ~100k events/s, so 10M, the goal, takes ~2 min more), TAPEDECK_BENCH_SKIP=kafka,clients,cassandra,facade,flood,spool,recorder to leave
 * sections out (clients: the Kafka client comparison, test/bench/kafka-clients.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { planArchive, readArchive, readArchiveBatches } from '../../replayer/read.ts';
import { replay } from '../../replayer/replay.ts';
import { DEFAULT_CONFIG, intervalName, type EngineConfig } from '../../src/engine/config.ts';
import { importRecordings } from '../../src/importers/import.ts';
import { backtest } from '../../replayer/backtest.ts';
import { DEFAULT_EXECUTION } from '../../strategies/execution.ts';
import { openKafka } from '../../replayer/kafka-source.ts';
import { generateArchive } from '../../src/cli/demo.ts';
import { readManifest } from '../../src/storage/run.ts';
import { realFixturesDir } from '../helpers.ts';
import { runCli, type CliRun } from './timing.ts';
import { SKIP_KAFKA, startBroker } from '../kafka/broker.ts';
import { produceArchive } from '../kafka/produce-archive.ts';
import { SKIP_CASSANDRA } from '../cassandra/node.ts';
import { benchCassandra } from './cassandra-bench.ts';
import { benchExchangesCost } from './exchanges-cost.ts';
import { benchFacade } from './facade-bench.ts';
import { benchFlood } from './flood-bench.ts';
import { benchKafkaClients } from './kafka-clients.ts';
import { benchRecorder } from './recorder-bench.ts';
import { benchSpool } from './spool-bench.ts';
import { scaledSession } from './scaled-session.ts';
import { selfTimeByStage, threadProfiles } from './profile.ts';

const real = realFixturesDir();
if (!real) {
  console.error('bench: set TAPEDECK_REAL_FIXTURES to the real recordings folder');
  process.exit(2);
}
const BIG = Number(process.env.TAPEDECK_BENCH_EVENTS ?? 10_000_000);
const KAFKA_EVENTS = Number(process.env.TAPEDECK_BENCH_KAFKA_EVENTS ?? 1_000_000);
const SKIP = new Set((process.env.TAPEDECK_BENCH_SKIP ?? '').split(',').filter(Boolean));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-bench-'));
// Every replay here decodes its frames (the decoded-event cache is off: timing.ts), except in
// the rows that say they read the cache: those keep it in the bench's own folder.
const CACHE = { dir: path.join(tmp, 'decoded'), capBytes: 2 ** 40 };
const CACHE_ENV = { TAPEDECK_DECODE_CACHE: CACHE.dir };
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const row = (label: string, value: string): void => console.log(`${label.padEnd(56)} ${value}`);
const mib = (kib: number): string => `${fmt(kib / 1024)} MiB`;
/** 1m OHLC only, as a Spark job would compute it: no 5m windows, no SMA/EMA (RSI cannot be turned off; it runs once per closed candle). */
const OHLC_ONLY: EngineConfig = { ...DEFAULT_CONFIG, intervalsMs: [60_000], smaPeriods: [], emaPeriods: [] };

async function median<T>(runs: number, fn: () => Promise<T>, before?: () => void): Promise<{ ms: number; result: T }> {
  const times: number[] = [];
  let result!: T;
  for (let i = 0; i < runs; i++) {
    before?.();
    const t0 = performance.now();
    result = await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, result };
}

/** Runs the CLI as a user would (timing.ts's runCli, its probe files in the bench's temp folder). */
const cli = (args: string[], opts: { cpuProf?: string; env?: Record<string, string> } = {}): CliRun => runCli(args, tmp, opts);

/** `before` runs ahead of each run, untimed (an import refuses an archive that holds its session: the folder is emptied). */
function cliMedian(runs: number, args: string[], before?: () => void, env?: Record<string, string>): { ms: number; rssKiB: number } {
  const all = Array.from({ length: runs }, () => {
    before?.();
    return cli(args, env !== undefined ? { env } : {});
  }).sort((a, b) => a.ms - b.ms);
  return all[Math.floor(runs / 2)]!;
}

/** Events/s of JSON.parse alone over the archive's payloads (read time excluded), streaming. */
async function jsonParseRate(archive: string): Promise<number> {
  let ms = 0;
  let n = 0;
  for await (const batch of readArchiveBatches(await planArchive(archive))) {
    const t0 = performance.now();
    for (const ev of batch) {
      if (ev.payload !== '') {
        try {
          JSON.parse(ev.payload);
        } catch {
          // a truncated frame costs its parse attempt like any other
        }
      }
    }
    ms += performance.now() - t0;
    n += batch.length;
  }
  return n / (ms / 1000);
}

function dirBytes(dir: string): number {
  return fs.readdirSync(dir, { recursive: true }).map(String).reduce((n, f) => {
    const st = fs.statSync(path.join(dir, f));
    return n + (st.isFile() ? st.size : 0);
  }, 0);
}

/** Self-time shares per stage of one CLI replay's main thread (percent of its sampled time). */
function shares(archive: string): string {
  const dir = path.join(tmp, `prof-${process.hrtime.bigint()}`);
  cli(['replay', '--from', archive, '--out', path.join(dir, 'out')], { cpuProf: dir });
  const rows = selfTimeByStage(JSON.parse(fs.readFileSync(threadProfiles(dir).main, 'utf8')));
  const total = rows.reduce((t, r) => t + r.ms, 0);
  return rows.slice(0, 8).map((r) => `${r.stage} ${((100 * r.ms) / total).toFixed(0)}%`).join(' · ');
}

try {
  const cpu = os.cpus()[0]?.model ?? '';
  console.log(`tapedeck bench — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${os.cpus().length} cores, ${cpu}, ${fmt(os.totalmem() / 2 ** 30)} GiB\n`);

  // 1. The real BTCUSDT session (99,574 events).
  console.log('== replay: the real BTCUSDT session (hftbacktest import)');
  const files = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => path.join(real, 'binance/hftbacktest', f));
  const archive = path.join(tmp, 'raw');
  const emptied = (d: string) => (): void => fs.rmSync(d, { recursive: true, force: true });
  const imp = await median(3, () => importRecordings(files, { format: 'hftbacktest', out: archive }), emptied(archive));
  const events = imp.result.reduce((n, s) => n + s.events, 0);
  row('import hftbacktest (in process)', `${fmt(events / (imp.ms / 1000))} lines/s (${fmt(events)} events)`);
  const impCli = cliMedian(3, ['import', ...files, '--format', 'hftbacktest', '--out', path.join(tmp, 'raw-cli')], emptied(path.join(tmp, 'raw-cli')));
  row('import hftbacktest (whole CLI process, start-up included)', `${fmt(events / (impCli.ms / 1000))} lines/s (${(impCli.ms / 1000).toFixed(2)} s, peak RSS ${mib(impCli.rssKiB)})`);
  // At scale (where the writer thread runs): the session 10 times over, shifted in time, one gzip file.
  const big = await scaledSession(files, 10, fs.mkdtempSync(path.join(tmp, 'scaled-')));
  const bigLines = events * 10;
  const impBig = cliMedian(3, ['import', big, '--format', 'hftbacktest', '--out', path.join(tmp, 'raw-scaled')], emptied(path.join(tmp, 'raw-scaled')));
  row('import hftbacktest at scale (the session 10× over, whole CLI process)', `${fmt(bigLines / (impBig.ms / 1000))} lines/s (goal ≥ 500,000: ${(bigLines / (impBig.ms / 1000) / 500_000).toFixed(2)}×; ${(impBig.ms / 1000).toFixed(2)} s, peak RSS ${mib(impBig.rssKiB)})`);
  const rep = await median(3, () => replay({ from: archive, out: path.join(tmp, 'out'), speed: 'max', config: DEFAULT_CONFIG }));
  const replayRate = rep.result.manifest.events / (rep.ms / 1000);
  row('replay --speed max (in process)', `${fmt(replayRate)} events/s`);
  const repCli = cliMedian(3, ['replay', '--from', archive, '--out', path.join(tmp, 'out-cli')]);
  row('replay --speed max (whole CLI process, start-up included)', `${fmt(events / (repCli.ms / 1000))} events/s (${(repCli.ms / 1000).toFixed(2)} s, peak RSS ${mib(repCli.rssKiB)})`);
  const start = cliMedian(3, ['--help']);
  row('  CLI start-up alone (tapedeck --help)', `${(start.ms / 1000).toFixed(2)} s`);
  const parseRate = (await median(5, async () => jsonParseRate(archive))).result;
  row('JSON.parse alone over the same frames', `${fmt(parseRate)} events/s`);
  row('ratio replay (in process) / JSON.parse', `${(replayRate / parseRate).toFixed(2)}`);
  const ohlc = await median(3, () => replay({ from: archive, out: path.join(tmp, 'out-ohlc'), speed: 'max', config: OHLC_ONLY }));
  row('replay 1m OHLC only (Spark-comparable, in process)', `${fmt(ohlc.result.manifest.events / (ohlc.ms / 1000))} events/s`);
  // The decoded-event cache: the first replay of an archive writes it, the next ones fold its market events.
  const uncached = (): void => fs.rmSync(CACHE.dir, { recursive: true, force: true });
  const writing = await median(3, () => replay({ from: archive, out: path.join(tmp, 'out-cw'), speed: 'max', config: DEFAULT_CONFIG, decodeCache: CACHE }), uncached);
  row('replay writing the decoded-event cache (in process)', `${fmt(events / (writing.ms / 1000))} events/s, ${(writing.ms / rep.ms).toFixed(2)}× the time of the replay without (${(dirBytes(CACHE.dir) / 1e6).toFixed(2)} MB)`);
  const warm = await median(3, () => replay({ from: archive, out: path.join(tmp, 'out-cr'), speed: 'max', config: DEFAULT_CONFIG, decodeCache: CACHE }));
  if (warm.result.decodeCache !== 'found') throw new Error('bench: the replay did not read the decoded-event cache');
  const warmRate = events / (warm.ms / 1000);
  row('replay reading the decoded-event cache (in process)', `${fmt(warmRate)} events/s (goal ≥ 1M: ${(warmRate / 1e6).toFixed(2)}×), ${(warmRate / replayRate).toFixed(2)}× the replay without; ratio / JSON.parse ${(warmRate / parseRate).toFixed(2)} (goal ≥ 1.5)`);
  const warmOhlc = await median(3, () => replay({ from: archive, out: path.join(tmp, 'out-cro'), speed: 'max', config: OHLC_ONLY, decodeCache: CACHE }));
  row('  1m OHLC only, reading the cache (Spark-comparable)', `${fmt(events / (warmOhlc.ms / 1000))} events/s`);
  const warmCli = cliMedian(3, ['replay', '--from', archive, '--out', path.join(tmp, 'out-cli-cr')], undefined, CACHE_ENV);
  row('  whole CLI process, reading the cache', `${fmt(events / (warmCli.ms / 1000))} events/s (${(warmCli.ms / 1000).toFixed(2)} s, peak RSS ${mib(warmCli.rssKiB)})`);
  row('stage shares (one CLI replay, self time)', shares(archive));

  const jsonl = (await (async () => {
    let n = 0;
    for await (const ev of readArchive(await planArchive(archive))) n += JSON.stringify({ ...ev, recvNs: String(ev.recvNs) }).length + 1;
    return n;
  })());
  const gz = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const text = files.reduce((n, f) => n + zlib.gunzipSync(fs.readFileSync(f)).length, 0);
  const pq = dirBytes(archive);
  row('archive size: Parquet', `${(pq / 1e6).toFixed(2)} MB — ${(jsonl / pq).toFixed(1)}× smaller than LogEvents as JSON lines (${(jsonl / 1e6).toFixed(1)} MB), ${(gz / pq).toFixed(2)}× smaller than the recorder's gzip (${(gz / 1e6).toFixed(2)} MB; ${(text / 1e6).toFixed(1)} MB as text)`);

  const pacedCpu0 = process.cpuUsage();
  const paced = await replay({ from: archive, out: path.join(tmp, 'out-50x'), speed: 50, config: DEFAULT_CONFIG });
  const pacedCpu = process.cpuUsage(pacedCpu0);
  const late = paced.manifest.options.pacing_lateness as { p50_ms: number; p99_ms: number; p999_ms: number; max_ms: number };
  row('pacing at --speed 50x: lateness', `p50 ${late.p50_ms} ms, p99 ${late.p99_ms} ms, p99.9 ${late.p999_ms} ms, max ${late.max_ms} ms (never early)`);
  row('  the paced replay\'s CPU time (the process, all threads)', `${((pacedCpu.user + pacedCpu.system) / 1e6).toFixed(2)} s in ${(paced.elapsedMs / 1000).toFixed(2)} s`);

  console.log('');
  for (const name of ['ma-cross', 'rsi-reversion', 'arb-taker']) {
    const r = await median(3, () => backtest({
      from: archive, out: path.join(tmp, `bt-${name}`), strategy: name, params: {}, config: DEFAULT_CONFIG, execution: DEFAULT_EXECUTION,
    }));
    const rate = r.result.events / (r.ms / 1000);
    row(`backtest ${name} (in process)`, `${fmt(rate)} events/s, ${(rate / replayRate).toFixed(2)}× replay (${r.result.report.trades} fills)`);
  }

  // 2. Generated archives: 1M and BIG events (the simulator's market, streamed to disk).
  for (const size of [1_000_000, BIG]) {
    console.log(`\n== replay: a generated ${fmt(size)}-event archive`);
    const dir = path.join(tmp, `gen-${size}`);
    const t0 = performance.now();
    const gen = generateArchive({ minutes: Math.ceil(size / 1_670), out: dir });
    row('generate (demo --no-replay, in process)', `${fmt(gen.events / ((performance.now() - t0) / 1000))} events/s (${fmt(gen.events)} events, ${gen.files} files, ${(dirBytes(dir) / 1e6).toFixed(0)} MB)`);
    const full = cli(['replay', '--from', dir, '--out', `${dir}-out`]);
    const fullRate = gen.events / (full.ms / 1000);
    row('replay --speed max (whole CLI process)', `${fmt(fullRate)} events/s, peak RSS ${mib(full.rssKiB)}`);
    const o = cli(['replay', '--from', dir, '--out', `${dir}-out-ohlc`, '--windows', '1m', '--sma', '', '--ema', '']);
    row('replay 1m OHLC only (Spark-comparable, whole CLI process)', `${fmt(gen.events / (o.ms / 1000))} events/s, peak RSS ${mib(o.rssKiB)}`);
    const pr = await jsonParseRate(dir);
    row('JSON.parse alone over the same frames', `${fmt(pr)} events/s; ratio replay / JSON.parse ${(fullRate / pr).toFixed(2)}`);
    // The decoded-event cache: written by one replay, read by the next (medians of 3 reading).
    // The writing replay is a user's first (the cache is on unless turned off): printed, not only run.
    const first = cli(['replay', '--from', dir, '--out', `${dir}-out-cw`], { env: CACHE_ENV });
    row('  writing the decoded-event cache (a first replay)', `${fmt(gen.events / (first.ms / 1000))} events/s, ${(first.ms / full.ms).toFixed(2)}× the time of the replay without, peak RSS ${mib(first.rssKiB)}`);
    const warmRuns = [0, 1, 2].map((i) => cli(['replay', '--from', dir, '--out', `${dir}-out-cr${i}`], { env: CACHE_ENV })).sort((a, b) => a.ms - b.ms);
    const warmRate = gen.events / (warmRuns[1]!.ms / 1000);
    row('replay reading the decoded-event cache (whole CLI process)', `${fmt(warmRate)} events/s (goal ≥ 1M: ${(warmRate / 1e6).toFixed(2)}×), ${(warmRate / fullRate).toFixed(2)}× the replay without, peak RSS ${mib(warmRuns[1]!.rssKiB)}; ratio / JSON.parse ${(warmRate / pr).toFixed(2)}`);
    const wo = cli(['replay', '--from', dir, '--out', `${dir}-out-cro`, '--windows', '1m', '--sma', '', '--ema', ''], { env: CACHE_ENV });
    row('  1m OHLC only, reading the cache (Spark-comparable)', `${fmt(gen.events / (wo.ms / 1000))} events/s, peak RSS ${mib(wo.rssKiB)}`);
    for (const k of size === 1_000_000 ? ['ma-cross', 'arb-taker'] : []) {
      const b = cli(['backtest', '--strategy', k, '--from', dir, '--out', `${dir}-bt-cr-${k}`], { env: CACHE_ENV });
      row(`  backtest ${k}, reading the cache (whole CLI process)`, `${fmt(gen.events / (b.ms / 1000))} events/s, ${(b.ms > 0 ? warmRuns[1]!.ms / b.ms : 0).toFixed(2)}× the cached replay`);
    }
    if (size === 1_000_000) {
      row('stage shares (one CLI replay, self time)', shares(dir));
      // The archive read on its own thread vs in line with the fold: alternating runs, medians.
      const runs: Record<'0' | '1', { ms: number; rssKiB: number }[]> = { 0: [], 1: [] };
      for (let i = 0; i < 3; i++) for (const v of ['0', '1'] as const) runs[v].push(cli(['replay', '--from', dir, '--out', `${dir}-out-t${v}`], { env: { TAPEDECK_READ_THREAD: v } }));
      const med = (v: '0' | '1'): { ms: number; rssKiB: number } => runs[v].sort((a, b) => a.ms - b.ms)[1]!;
      const [inline, threaded] = [med('0'), med('1')];
      row('replay, archive read in line (CLI, median of 3)', `${fmt(gen.events / (inline.ms / 1000))} events/s, peak RSS ${mib(inline.rssKiB)}`);
      row('replay, archive read on its own thread (the default)', `${fmt(gen.events / (threaded.ms / 1000))} events/s, peak RSS ${mib(threaded.rssKiB)}; ${(inline.ms / threaded.ms).toFixed(2)}× in line`);
      // Backtests as a user runs them (fresh processes: the in-process rows above follow several
      // replays in one heap), alternating with the replays they are held against; medians of 3.
      // A strategy adds what it needs to the engine (ma-cross its 10 s windows): beside the
      // default replay, each is also held against a replay folding what its backtest folds.
      const strategies = ['ma-cross', 'rsi-reversion', 'arb-taker'];
      const folds: Record<string, string[]> = {};
      for (const k of strategies) {
        cli(['backtest', '--strategy', k, '--from', dir, '--out', `${dir}-bt-${k}-probe`]);
        const e = readManifest(`${dir}-bt-${k}-probe`).engine;
        folds[k] = ['--windows', e.intervalsMs.map(intervalName).join(','), '--sma', e.smaPeriods.join(','), '--ema', e.emaPeriods.join(','), '--rsi', String(e.rsiPeriod)];
      }
      const btRuns: [string, string[]][] = [['replay', ['replay']], ...strategies.flatMap((k): [string, string[]][] => [[k, ['backtest', '--strategy', k]], [`replay as ${k}`, ['replay', ...folds[k]!]]])];
      const bt: Record<string, number[]> = Object.fromEntries(btRuns.map(([k]) => [k, []]));
      for (let i = 0; i < 3; i++) {
        for (const [k, args] of btRuns) bt[k]!.push(cli([...args, '--from', dir, '--out', `${dir}-bt-${k.replace(/ /g, '-')}-${i}`]).ms);
      }
      const btMed = (k: string): number => bt[k]!.sort((a, b) => a - b)[1]!;
      for (const k of strategies) {
        const ratio = btMed('replay') / btMed(k);
        const same = btMed(`replay as ${k}`) / btMed(k);
        row(`backtest ${k} (whole CLI process, median of 3)`, `${fmt(gen.events / (btMed(k) / 1000))} events/s, ${ratio.toFixed(2)}× the default replay beside it (goal ≥ 0.8×: ${(ratio / 0.8).toFixed(2)}×); ${same.toFixed(2)}× a replay folding what it folds (${folds[k]![1]})`);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // Issue 11: what the exchange redesign and the new exchanges cost the Binance/Coinbase replay.
  if (!SKIP.has('exchanges')) {
    console.log('\n== exchanges: the Binance/Coinbase demo replayed now and before issue 11');
    await benchExchangesCost(row, tmp);
  }

  // Kafka: a generated session of KAFKA_EVENTS produced to a 4-partition topic with the
  // recorder's producer settings, then replayed from the topic by the CLI (streaming; its
  // own peak RSS), whose digests must equal the Parquet replay's of the same archive.
  if (!SKIP_KAFKA && !SKIP.has('kafka')) {
    console.log(`\n== Kafka: a generated ${fmt(KAFKA_EVENTS)}-event session in a 4-partition topic`);
    const broker = startBroker(19192);
    try {
      const dir = path.join(tmp, 'kafka-gen');
      generateArchive({ minutes: Math.ceil(KAFKA_EVENTS / 1_650), out: dir });
      const topic = `bench-${Date.now()}.raw`;
      const { events: produced, ms: produceMs } = await produceArchive(broker.brokers.split(','), topic, dir, 4);
      row(`produce to Kafka ${broker.version} (idempotent, acks=all, the recorder's producer and settings)`, `${fmt(produced / (produceMs / 1000))} LogEvents/s (goal ≥ 100,000: ${(produced / (produceMs / 1000) / 100_000).toFixed(2)}×)`);
      const fromParquet = cli(['replay', '--from', dir, '--out', `${dir}-parquet`]);
      const digests = (d: string): string => JSON.stringify(Object.entries(readManifest(d).tables).map(([t, r]) => [t, r.sha256]));
      // The reader on its own thread (the default) and in line (TAPEDECK_READ_THREAD=0).
      const [fromKafka, inLine] = (['1', '0'] as const).map((thread) => {
        const run = cli(['replay', '--from', `kafka://${broker.brokers}/${topic}`, '--out', `${dir}-kafka-${thread}`], { env: { TAPEDECK_READ_THREAD: thread } });
        if (digests(`${dir}-kafka-${thread}`) !== digests(`${dir}-parquet`)) throw new Error(`bench: the replay from Kafka ${topic} (TAPEDECK_READ_THREAD=${thread}) differs from the Parquet replay of ${dir}`);
        return run;
      }) as [CliRun, CliRun];
      const rate = produced / (fromKafka.ms / 1000);
      const cpu = (r: CliRun): string => `CPU ${(r.cpuMs / 1000).toFixed(1)} s (${(r.cpuMs * 1000 / produced).toFixed(1)} µs/event)`;
      row('replay --speed max from Kafka (whole CLI process)', `${fmt(rate)} events/s (goal ≥ 500,000: ${(rate / 500_000).toFixed(2)}×), peak RSS ${mib(fromKafka.rssKiB)} (goal ≤ 300 MiB: ${(fromKafka.rssKiB / 1024 / 300).toFixed(2)}×), ${cpu(fromKafka)}; digests = Parquet replay's`);
      row('  the same, the topic read in line (TAPEDECK_READ_THREAD=0)', `${fmt(produced / (inLine.ms / 1000))} events/s, peak RSS ${mib(inLine.rssKiB)}, ${cpu(inLine)}`);
      row('  the same archive from Parquet (whole CLI process)', `${fmt(produced / (fromParquet.ms / 1000))} events/s, peak RSS ${mib(fromParquet.rssKiB)}`);
      const t1 = performance.now();
      const stream = await openKafka({ brokers: broker.brokers.split(','), topic });
      let read = 0;
      for await (const batch of stream.batches()) read += batch.length;
      row('  of which reading the topic alone (in process)', `${fmt(read / ((performance.now() - t1) / 1000))} events/s, at most ${fmt(Math.max(...stream.peakBuffered().values()))} events buffered per partition`);
      fs.rmSync(dir, { recursive: true, force: true });
      if (!SKIP.has('clients')) {
        console.log('\n== Kafka clients compared: produce throughput, one broker, one run');
        await benchKafkaClients(row, tmp, broker.brokers);
      }
    } finally {
      broker.down();
    }
  }

  // Cassandra: what --sink costs a replay of the demo at --speed max.
  if (!SKIP_CASSANDRA && !SKIP.has('cassandra')) {
    console.log('\n== Cassandra: replay --sink cassandra://… on the demo');
    await benchCassandra(row, tmp);
  }

  // The replay façade: simulate --from, as fast as it goes.
  if (!SKIP.has('facade')) {
    console.log('\n== replay façade: simulate --from the real BTCUSDT session');
    await benchFacade(row, tmp, real);
  }

  // The simulator's flood mode on its own: what it offers, measured at the simulator.
  if (!SKIP.has('flood')) {
    console.log('\n== simulator flood mode: simulate --rate 150k, one local consumer per exchange');
    await benchFlood(row);
  }

  // The spool alone: the simulator's frames committed as the recorder commits them.
  if (!SKIP.has('spool')) {
    console.log('\n== the spool alone: commits of 2,800 of the simulator\'s frames, pruned and checkpointed as the recorder does');
    benchSpool(row);
  }

  // The recorder: the simulator (its own process) floods loopback; the recorder (its own
  // process) stores every frame (spool + archive) and runs the live engine.
  if (!SKIP.has('recorder')) {
    console.log('\n== the recorder at a flood (offered, recorded, commit latency and RSS measured, verify)');
    await benchRecorder(row, tmp);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
