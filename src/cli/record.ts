import os from 'node:os';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { tableSummary } from '../storage/run.ts';
import { MAX_TIMER_MS, record } from '../../recorder/record.ts';
import { badSession } from '../../recorder/session.ts';
import { RECORDABLE, DEFAULT_ENDPOINTS } from '../../recorder/venues.ts';
import { exchangeSpec, liveSpec } from '../exchanges/registry.ts';
import type { VenueChoices } from '../../recorder/venues.ts';
import { parseDuration } from '../engine/config.ts';
import { parseBrokers } from '../storage/kafka.ts';
import { withNeeds } from '../../replayer/backtest.ts';
import { loadStrategy, StrategyLoadError } from '../../strategies/registry.ts';
import type { StrategySetup } from '../../strategies/runner.ts';
import { resolveParams } from '../../strategies/params.ts';
import { strategyNeeds } from '../../strategies/needs.ts';
import type { EngineConfig } from '../engine/config.ts';
import { equityInterval, executionConfig, parseParams, withStrategyOptions, type StrategyArgs } from './strategy-options.ts';
import { engineConfig, withEngineOptions, type EngineArgs } from './engine-options.ts';
import { UserError, aboveZero, checkPort, envSwitch, listenError, userInput } from './errors.ts';
import { boundHeapGrowth } from './heap-growth.ts';
import { liveView } from './live-view.ts';
import { engineInfo, startDashboard, withUiOptions, type UiArgs } from './ui.ts';
import { UiHub } from '../ui/hub.ts';
import { recorderGauges } from '../ui/health.ts';
import { CassandraSink, type CassandraTarget, type SinkReport } from '../storage/cassandra.ts';
import { SINK_DESCRIPTION, sinkSummary, sinkTarget } from './sink-options.ts';
import { STALL_MS } from '../storage/stop-wait.ts';

interface Args extends EngineArgs, StrategyArgs, UiArgs {
  strategy?: string;
  exchanges: string; symbols: string; out: string; duration?: string; endpoint: string[]; tick: string;
  'metrics-port': number; silence?: string; 'api-key'?: string; kafka?: string; 'topic-prefix': string; partitions: number; 'metrics-host': string; metrics: boolean; session?: string; sink?: string;
}

/** `binance=ws://127.0.0.1:9000/binance` → ws and REST bases (REST: the same host over http). */
export function parseEndpoints(specs: readonly string[], exchanges: readonly string[]): Record<string, { ws: string; rest: string }> {
  const out: Record<string, { ws: string; rest: string }> = {};
  for (const spec of specs) {
    const m = /^([a-z]+)=(wss?:\/\/\S+?)(?:,rest=(https?:\/\/\S+))?$/.exec(spec);
    if (!m) throw new UserError(`bad --endpoint ${JSON.stringify(spec)} (use exchange=ws://host:port/path, for one of ${exchanges.join(', ')})`);
    if (!exchanges.includes(m[1]!)) throw new UserError(`bad --endpoint ${JSON.stringify(spec)}: ${m[1]} is not recorded (--exchanges ${exchanges.join(',')})`);
    // Checked now: an address URL cannot read (port 99999, \`ws://[::1\`) failed after the spool was made, as "failed: Invalid URL".
    for (const url of [m[2]!, m[3]].filter((u) => u !== undefined)) {
      if (!URL.canParse(url)) throw new UserError(`bad --endpoint ${JSON.stringify(spec)}: ${url} is not a URL (a port above 65535, a bracket left open?)`);
    }
    const ws = m[2]!.replace(/\/$/, '');
    out[m[1]!] = { ws, rest: m[3] ?? ws.replace(/^ws/, 'http') };
  }
  return out;
}

/**
 * A period the recorder's timers count (--tick, --silence): at most 2^31 − 1 ms, about 24.8
 * days, what Node's timers take (`--tick 25d` was one tick a millisecond, with a warning).
 */
function timerMs(flag: string, text: string, ms: number): number {
  if (ms > MAX_TIMER_MS) throw new UserError(`bad ${flag} ${text} (at most 24 days)`);
  return ms;
}

export function parseExchanges(spec: string, known: readonly string[]): string[] {
  const list = spec.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  const bad = list.filter((x) => !known.includes(x));
  if (list.length === 0 || bad.length > 0) throw new UserError(`unknown exchange ${JSON.stringify(bad[0] ?? spec)} (supported: ${known.join(', ')})`);
  return [...new Set(list)];
}

/**
 * A recorder at a flood makes garbage at ~100k frames/s and holds little (19–38 MiB of old
 * generation after each full collection), and V8's own policy let its RSS follow the
 * garbage: every 5 s of a saturated minute up to 299 MiB in the bench (2026-11-24), past the
 * 300 MB goal. Grown by at most 150 % at a time, side by side in 30 s saturated recordings
 * (`simulate --rate 150k`, Node 20, alternating): RSS every 5 s at most 231–250 MiB against
 * 264–296, frames taken within the flood's noise (2.89M–3.29M against 3.04M–3.77M), and the
 * bench's saturated minute took 118,393 frames/s against 117,795 before; 100 % took ~26 %
 * fewer, 50 % ~30 % fewer. TAPEDECK_RECORD_HEAP_GROWTH=<percent> sets it, 0 leaves V8's own.
 */
const RECORD_HEAP_GROWTH_PERCENT = 150;

export const recordCommand: CommandModule<object, Args> = {
  command: 'record',
  describe: 'record live exchange WebSocket data into the archive, running the engine live',
  builder: (y) => withUiOptions(withStrategyOptions(withEngineOptions(y
    .option('exchanges', { type: 'string', default: 'binance,coinbase', describe: `exchanges: ${RECORDABLE.join(',')}` })
    .option('symbols', { type: 'string', default: 'BTC-USD,ETH-USD', describe: symbolsHelp() })
    .option('api-key', { type: 'string', describe: `API key of an exchange that needs one (${keyed().join(', ')}; default: $${keyed().map((x) => liveSpec(x)!.apiKey!.env).join(', $')}); never logged, archived or shown` })
    .option('out', { type: 'string', default: 'data', describe: 'data root: raw/ archive, out/<session>/ outputs, spool/' })
    .option('duration', { type: 'string', describe: 'stop after this long, e.g. 30s, 10m (default: until Ctrl-C)' })
    .option('endpoint', { type: 'string', array: true, default: [], describe: `override a WebSocket endpoint, e.g. binance=ws://127.0.0.1:9000/binance (default ${Object.entries(DEFAULT_ENDPOINTS).map(([k, v]) => `${k}=${v.ws}`).join(', ')})` })
    .option('tick', { type: 'string', default: '1s', describe: 'log a tick this often' })
    .option('silence', { type: 'string', describe: `reconnect after this long without a frame or ping (default: ${RECORDABLE.map((x) => `${x} ${liveSpec(x)!.silenceMs / 1000}s`).join(', ')})` })
    .option('metrics-port', { type: 'number', default: 9464, describe: 'Prometheus /metrics port (0: any free port)' })
    .option('metrics-host', { type: 'string', default: '127.0.0.1', describe: 'address /metrics listens on (0.0.0.0: every interface)' })
    // yargs reads any --no-x as x = false, so the flag is declared as `metrics` for --no-metrics to work.
    .option('metrics', { type: 'boolean', default: true, describe: 'serve Prometheus /metrics (--no-metrics: do not)' })
    .option('session', { type: 'string', describe: 'session id (default rec-<time>-<random>)' })
    .option('kafka', { type: 'string', describe: 'also produce to Kafka: brokers host:port[,host:port]' })
    .option('topic-prefix', { type: 'string', default: 'tapedeck', describe: 'Kafka topics: <prefix>.raw, <prefix>.candles, …' })
    .option('partitions', { type: 'number', default: 4, describe: 'partitions of topics tapedeck creates' })
    .option('strategy', { type: 'string', describe: 'paper-trade this strategy live (see backtest)' })
    .option('sink', { type: 'string', describe: `${SINK_DESCRIPTION} (rows wait on disk, in <out>/cassandra, while it is away)` })))) as never,
  handler: async (a) => {
    boundHeapGrowth('TAPEDECK_RECORD_HEAP_GROWTH', RECORD_HEAP_GROWTH_PERCENT);
    if (a.session !== undefined) {
      const bad = badSession(a.session);
      if (bad) throw new UserError(bad);
    }
    const exchanges = parseExchanges(a.exchanges, RECORDABLE);
    const { symbols, choices } = venueChoices(a, exchanges);
    const durationMs = a.duration !== undefined ? userInput(() => parseDuration(a.duration!)) : undefined;
    // Digits enough read as Infinity: a recording that would never end by itself.
    if (durationMs !== undefined && !Number.isFinite(durationMs)) throw new UserError(`bad --duration ${a.duration} (a duration, e.g. 10m or 30d; leave it out to record until Ctrl-C)`);
    const tickMs = timerMs('--tick', a.tick, aboveZero('--tick', a.tick, userInput(() => parseDuration(a.tick))));
    const silenceMs = a.silence !== undefined ? timerMs('--silence', a.silence, aboveZero('--silence', a.silence, userInput(() => parseDuration(a.silence!)))) : undefined;
    let config = engineConfig(a);
    const strategy = a.strategy !== undefined ? await paperStrategy(a, config) : undefined;
    if (strategy) config = strategy.config;
    const brokers = a.kafka !== undefined ? userInput(() => parseBrokers(a.kafka!)) : undefined;
    const rollThread = envSwitch('TAPEDECK_ROLL_THREAD', 'archive on the ingest thread', 'on a thread of its own');
    if (!/^[A-Za-z0-9._-]+$/.test(a['topic-prefix'])) throw new UserError(`bad --topic-prefix ${JSON.stringify(a['topic-prefix'])}`);
    if (a.metrics) checkPort('--metrics-port', a['metrics-port']);
    if (!Number.isInteger(a.partitions) || a.partitions < 1) throw new UserError('bad --partitions (a positive integer)');
    const target = a.sink !== undefined ? sinkTarget(a.sink) : undefined;
    const view = process.stdout.isTTY && !process.env.CI ? liveView(config) : undefined;
    const say = (l: string): void => void (view ? view.say(l) : process.stderr.write(`${l}\n`));
    const { stop, hurry, stopping } = stopSignals(a.out, say);
    const dash = a.ui ? await startDashboard(new UiHub(engineInfo(exchanges.join(', '), 'record', config)), a) : undefined;
    if (dash) say(`dashboard at ${dash.server.url}`);
    // Connected lazily and pumped beside the recording: Cassandra down never holds recording up;
    // what waits is kept on disk in the output folder, and the next record into it writes it.
    const cassandra = target ? pendingSink(target, config, say, path.join(a.out, 'cassandra', `${target.keyspace}.pending.sqlite`)) : undefined;
    cassandra?.start();
    // Closed (its last rows written while Cassandra takes them) beside the rest of the stop, from the last row on.
    let closing: Promise<SinkReport> | undefined;
    const closeSink = (deadlineMs: number): Promise<SinkReport> | undefined => (closing ??= cassandra?.close(deadlineMs, { stallMs: STALL_MS, hurry }));
    const sinks = [...(view ? [view.sink] : []), ...(dash ? [dash.hub] : []), ...(cassandra ? [cassandra] : [])];
    const taps = [...(view ? [view.tap] : []), ...(dash ? [dash.hub.tap] : [])];
    const r = await record({
      exchanges, symbols, out: a.out, config, tickMs, endpoints: parseEndpoints(a.endpoint, exchanges), choices,
      ...(rollThread !== undefined ? { rollThread } : {}),
      metrics: a.metrics ? { host: a['metrics-host'], port: a['metrics-port'] } : null,
      signal: stop, hurry, onStopping: stopping, say,
      ...(durationMs !== undefined ? { durationMs } : {}), ...(a.session !== undefined ? { session: a.session } : {}),
      ...(silenceMs !== undefined ? { silenceMs } : {}),
      ...(brokers ? { kafka: { brokers, prefix: a['topic-prefix'], partitions: a.partitions } } : {}),
      ...(strategy ? { strategy: strategy.setup } : {}),
      sinks, taps,
      ...(dash ? { onMetrics: (m) => dash.hub.watchRecorder(() => recorderGauges(m.registry)) } : {}),
      // Its rows are on disk meanwhile: waiting long for a Cassandra that is away would only hold the exit up.
      onLastRow: () => void closeSink(10_000),
    }).catch(async (err: unknown) => {
      await closeSink(0);
      return listenError(err, a['metrics-host'], a['metrics-port'], '--metrics-port/--metrics-host, or --no-metrics');
    });
    const written = await closeSink(10_000);
    view?.stop();
    dash?.hub.done();
    await dash?.close();
    const tables = tableSummary(r.manifest);
    process.stdout.write(`recorded ${r.events} events as ${r.session} → ${r.archive}; live outputs → ${r.outDir}: ${tables}\n`);
    const l = r.commitLatencyMs;
    process.stdout.write(`frame arrival → spool commit: p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms\n`);
    if (cassandra && written) {
      process.stdout.write(`${sinkSummary(cassandra, written)}\n`);
      if (written.unwritten > 0) process.stdout.write(`cassandra: ${written.unwritten} rows NOT written (${cassandra.lastError}); kept in ${written.keptIn}, the next record --out ${a.out} --sink … writes them (they are also in ${r.outDir})\n`);
    }
    if (r.kafka) process.stdout.write(`kafka: ${r.kafka.delivered} events delivered to ${r.kafka.topic}${r.kafka.undelivered > 0 ? `, ${r.kafka.undelivered} NOT delivered (kept in the spool and the archive)` : ''}\n`);
    const code = hurry.aborted ? hurriedVerdict(hurry.reason as NodeJS.Signals, r.abandonedBackfills, r.kafka !== undefined || cassandra !== undefined) : 0;
    // Exit now: what a stop gave up on (a Kafka or Cassandra connection still being tried, a
    // backfill's request) holds nothing of the recording, and would hold the exit up.
    process.exit(code);
  },
};

/**
 * Ctrl-C (or SIGTERM) stops the recording: everything is flushed and the stop waits a
 * little for the network (the exchanges' closes, backfills, Kafka, Cassandra). One while
 * stopping (the second, or the first after --duration) stops that waiting (`hurry`): what
 * was recorded is still written whole, and what Kafka and Cassandra did not get stays in the
 * spool and the pending file. One more exits at once.
 */
function stopSignals(out: string, say: (line: string) => void): { stop: AbortSignal; hurry: AbortSignal; stopping: () => void } {
  const stop = new AbortController();
  const hurry = new AbortController();
  let stopping = false;
  const on = (signal: NodeJS.Signals): void => {
    if (!stopping && !stop.signal.aborted) return stop.abort(signal);
    if (!hurry.signal.aborted) {
      say(`${signal} while stopping: no more waiting for the network (exchanges, backfills, Kafka, Cassandra); writing what was recorded (once more to exit at once)`);
      return hurry.abort(signal);
    }
    process.stderr.write(`tapedeck: ${signal} again: exited at once; the live outputs may not be written, and the next record run on --out ${out} recovers what its spool holds into the archive\n`);
    process.exit(128 + os.constants.signals[signal]);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return { stop: stop.signal, hurry: hurry.signal, stopping: () => void (stopping = true) };
}

/**
 * The exit code after a stop signal while stopping, said in one line: 0 when everything
 * recorded is on disk (what a sink did not get is kept to send later: nothing is lost),
 * 128 + the signal's number when the stop gave something up (backfills under way: trades
 * missing).
 */
function hurriedVerdict(signal: NodeJS.Signals, abandonedBackfills: number, sinks: boolean): number {
  if (abandonedBackfills > 0) {
    process.stderr.write(`tapedeck: ${signal} while stopping: ${abandonedBackfills} backfill(s) were given up, so the trades of their gaps are not in the recording; everything received is on disk\n`);
    return 128 + os.constants.signals[signal];
  }
  process.stderr.write(`tapedeck: ${signal} while stopping: stopped waiting for the network; everything recorded is on disk${sinks ? ' (what Kafka or Cassandra did not get is kept to send later, as said above)' : ''}\n`);
  return 0;
}

/** `--symbols`' help: canonical assets, and the native symbols an exchange lets a user name (its spec's `named`). */
function symbolsHelp(): string {
  const named = RECORDABLE.flatMap((x) => {
    const n = exchangeSpec(x)!.symbols.named;
    return n ? [{ x, n }] : [];
  });
  return `assets as BASE-QUOTE (Binance records USD as USDT${named.map(({ x, n }) => `; ${x}: ${n.canonical}`).join('')})`
    + named.map(({ x, n }) => `, or ${x} symbols as ${n.form} (e.g. ${n.example}; then ${x} records only those). ${x}: ${n.time}`).join('');
}

/** Exchanges that need an API key. */
const keyed = (): string[] => RECORDABLE.filter((x) => liveSpec(x)!.apiKey !== undefined);

/**
 * `--symbols` split into canonical `BASE-QUOTE` names (for every exchange) and native ones
 * an exchange's spec lets a user name (an aggregator's `<Market>~BTC~USD`), and each keyed exchange's API key.
 */
export function venueChoices(a: { symbols: string; 'api-key'?: string }, exchanges: readonly string[]): { symbols: string[]; choices: Record<string, VenueChoices> } {
  const symbols: string[] = [];
  const native = new Map<string, string[]>();
  for (const entry of a.symbols.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const owner = exchanges.find((x) => exchangeSpec(x)!.symbols.named?.pattern.test(entry));
    if (owner !== undefined) native.set(owner, [...(native.get(owner) ?? []), entry]);
    else if (/^[A-Z0-9]+-[A-Z0-9]+$/.test(entry.toUpperCase())) symbols.push(entry.toUpperCase());
    else {
      const named = exchanges.flatMap((x) => {
        const n = exchangeSpec(x)!.symbols.named;
        return n ? [`, or ${n.form} for ${x}, e.g. ${n.example}`] : [];
      });
      throw new UserError(`bad symbol ${JSON.stringify(entry)} (use BASE-QUOTE, e.g. BTC-USD${named.join('')})`);
    }
  }
  const choices: Record<string, VenueChoices> = {};
  for (const x of exchanges) {
    const env = liveSpec(x)!.apiKey?.env;
    const apiKey = env === undefined ? undefined : a['api-key'] ?? process.env[env];
    if (env !== undefined && (apiKey === undefined || apiKey === '')) throw new UserError(`${x} needs an API key: --api-key or $${env}`);
    if (symbols.length === 0 && !native.has(x)) throw new UserError(`no symbols for ${x} (give BASE-QUOTE, e.g. BTC-USD)`);
    choices[x] = { ...(native.has(x) ? { native: native.get(x)! } : {}), ...(apiKey !== undefined ? { apiKey } : {}) };
  }
  return { symbols, choices };
}

/** The recorder's sink, its waiting rows kept in `file`; a file that cannot be opened is the user's to fix. */
function pendingSink(target: CassandraTarget, config: EngineConfig, say: (l: string) => void, file: string): CassandraSink {
  try {
    return new CassandraSink(target, config, { say, pendingFile: file });
  } catch (err) {
    throw new UserError(`cannot keep Cassandra's waiting rows in ${file} (${(err as Error).message})`);
  }
}

/** The strategy to paper-trade, with the engine options it needs merged in. */
async function paperStrategy(a: Args, base: EngineConfig): Promise<{ setup: StrategySetup; config: EngineConfig }> {
  let strategy;
  try {
    strategy = await loadStrategy(a.strategy!);
  } catch (err) {
    if (err instanceof StrategyLoadError) throw new UserError(err.message);
    throw err;
  }
  const params = userInput(() => resolveParams(strategy, parseParams(a.param)));
  const config = withNeeds(base, strategyNeeds(strategy, params));
  const equityIntervalMs = equityInterval(a) ?? Math.min(10_000, config.intervalsMs[0]!);
  return { setup: { strategy, params, execution: executionConfig(a, config), equityIntervalMs }, config };
}
