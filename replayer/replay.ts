/**
 * `tapedeck replay`: read → merge → pace → pipeline → output tables + manifest.
 * The engine cannot tell a replay from a live run; only the source and the pace differ.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EngineConfig } from '../src/engine/config.ts';
import { TableCollector, type OutputSink, type OutputTables, type TableName } from '../src/engine/rows.ts';
import { makePipeline, type StrategySetup } from '../strategies/runner.ts';
import type { LogEvent } from '../src/log/event.ts';
import { nsToIsoExact } from '../src/log/time.ts';
import { KafkaOrderError } from './kafka-partition.ts';
import { checkOutputFolder, writeRun, type Manifest } from '../src/storage/run.ts';
import { Lateness, paceBatches, readAhead, type PaceClock, type Speed } from './pace.ts';
import { planArchive, readArchiveBatches, type TimeRange } from './read.ts';
import { archiveOf } from '../src/storage/archive-read.ts';
import { within } from '../src/storage/out-folder.ts';
import { ArchiveError } from '../src/storage/archive.ts';
import { readArchiveThreaded } from './read-thread.ts';
import { openDecodeCache, type DecodeCache, type DecodeCacheSettings } from './decode-cache.ts';

export interface ReplayOptions {
  readonly from: string;
  readonly out: string;
  readonly speed: Speed;
  readonly startNs?: bigint;
  readonly endNs?: bigint;
  /** Replay only these sessions (verify replays exactly what a live run saw). */
  readonly sessions?: readonly string[];
  readonly config: EngineConfig;
  /** Called every few thousand events with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  readonly clock?: PaceClock;
  /** With a kafka:// source: join this consumer group and replay only the assigned partitions. */
  readonly group?: string;
  /** Run a strategy on the events (a backtest): orders, fills and equity become tables too. */
  readonly strategy?: StrategySetup;
  /** Events a Kafka partition may hold out of replay order while streaming (default: the reader's). */
  readonly kafkaWindow?: number;
  /** Where a warning goes (default: stderr). */
  readonly warn?: (line: string) => void;
  /**
   * Read the archive on a worker thread (read-thread.ts) while the engine folds: the same
   * events in the same order. Default: for a paced replay, and for archives of at least
   * THREAD_MIN_ROWS events.
   */
  readonly readThread?: boolean;
  /**
   * Extra sinks for the rows as they are made (the dashboard, Cassandra); a sink's `settle`,
   * if it has one, is awaited between batches (bounded writes in flight), and its `lastRow`
   * is called once the last row is made, before the run's own files are written; its
   * `restart`, when the replay starts over (a Kafka topic it must read whole after all).
   */
  readonly sinks?: readonly (OutputSink & { settle?: () => Promise<void>; lastRow?: () => void; restart?: () => void })[];
  /** Extra consumers of every LogEvent, after it is folded (the dashboard's connection health). */
  readonly taps?: readonly ((ev: LogEvent) => void)[];
  /** The decoded-event cache of an archive replay (decode-cache.ts): where, or null for none; default: from the environment. */
  readonly decodeCache?: DecodeCacheSettings | null;
}

/**
 * Below this many events, starting a reader thread costs more than it saves. Measured on
 * the 2-core machine: the thread costs ~0.22 s to start (its own module loading) and saves
 * ~0.65 µs per event, so it pays from ~340k events (BTCUSDT's 100k: 0.83 s in line, 1.05 s
 * threaded; 1M: 3.26 s in line, 2.83 s threaded).
 */
export const THREAD_MIN_ROWS = 400_000;

/**
 * Whether to read the archive on a worker thread. A paced replay always does: read in line,
 * the decoding of a slice of a row group runs in the turns of the event loop the pacer
 * waits in and makes events late. With realtime priority (chrt -f 10, so that the shared
 * machine's load does not decide), BTCUSDT at 50x, three runs each alternating: lateness
 * p99 1.09–1.55 ms on the thread against 2.17–2.45 in line, p99.9 7.0–11.7 against
 * 12.0–13.7; 0.2 s more CPU in 13 s and ~70 MB more RSS (the thread's heap).
 */
function readOnThread(opts: ReplayOptions, rows: number): boolean {
  return opts.readThread ?? (opts.speed !== 'max' || rows >= THREAD_MIN_ROWS);
}

export interface ReplayResult {
  readonly manifest: Manifest;
  readonly tables: OutputTables;
  readonly elapsedMs: number;
  /** The decoded-event cache (decode-cache.ts): `found` (the replay did not decode) or `written`; absent: none. */
  readonly decodeCache?: 'found' | 'written';
  /** From Kafka: records that repeated an event already read (a recorder's resend), each checked and replayed once. */
  readonly resends?: number;
}

interface Source {
  /** Events in replay order, in batches. */
  readonly batches: AsyncIterable<LogEvent[]>;
  readonly total: number;
  readonly sessions: string[];
  readonly inputs: { file: string; sessions: string[] }[];
  /** An archive's decoded-event cache, found or to write (decode-cache.ts). */
  readonly cache?: DecodeCache;
  /** Kafka's resent records dropped, once the batches are read. */
  readonly resends?: () => number;
  readonly onlyResent?: () => number;
}

/**
 * Refuses an output folder inside the archive a run reads (a `backtest --sweep` asks before
 * its first run, whose worker refused it as exit 1). Nothing to check for a Kafka source or
 * an archive that is not there (reading it says so).
 */
export function checkOutsideArchive(out: string, from: string): void {
  if (from.startsWith('kafka://') || !fs.existsSync(from)) return;
  const archive = archiveOf(from);
  if (within(out, archive)) {
    throw new ArchiveError(`the output folder ${out} is inside the archive ${archive}: its tables would be read as archive files by the next replay; write them outside it`);
  }
}

async function archiveSource(opts: ReplayOptions, range: TimeRange): Promise<Source> {
  const plan = await planArchive(opts.from, opts.sessions);
  const root = fs.statSync(opts.from).isDirectory() ? opts.from : path.dirname(opts.from);
  checkOutsideArchive(opts.out, opts.from);
  const sessionsOf = new Map<string, string[]>();
  for (const [s, files] of plan.sessions) for (const { file: f } of files) sessionsOf.set(f, [...(sessionsOf.get(f) ?? []), s]);
  const cache = opts.decodeCache === null ? undefined : openDecodeCache(plan, range, warnOf(opts), opts.decodeCache);
  return {
    // A cache found holds the replay's events too: the archive is not read.
    batches: cache?.batches ?? (readOnThread(opts, plan.rows) ? readArchiveThreaded(plan, range) : readArchiveBatches(plan, range)), total: plan.rows, sessions: [...plan.sessions.keys()].sort(),
    inputs: [...sessionsOf.keys()].sort().map((f) => ({ file: path.relative(root, f) || path.basename(f), sessions: sessionsOf.get(f)! })),
    ...(cache !== undefined ? { cache } : {}),
  };
}

async function kafkaSource(opts: ReplayOptions, range: TimeRange): Promise<Source> {
  // Loaded here: an archive replay need not load the Kafka client (start-up time).
  const [{ parseKafkaUrl }, { openKafka }, { openKafkaThreaded }] = await Promise.all([import('../src/storage/kafka.ts'), import('./kafka-source.ts'), import('./kafka-thread.ts')]);
  // On its own thread unless told otherwise, or unless the whole topic is to be held (a
  // reader thread's heap is bounded for the buffers' share of it).
  const open = opts.readThread !== false && opts.kafkaWindow !== Infinity ? openKafkaThreaded : openKafka;
  const stream = await open(parseKafkaUrl(opts.from), { ...(opts.group !== undefined ? { group: opts.group } : {}), ...(opts.kafkaWindow !== undefined ? { window: opts.kafkaWindow } : {}) });
  const only = opts.sessions;
  const { startNs, endNs } = range;
  async function* batches(): AsyncGenerator<LogEvent[]> {
    for await (const batch of stream.batches()) {
      if (only === undefined && startNs === undefined && endNs === undefined) yield batch;
      else yield batch.filter((ev) => (only === undefined || only.includes(ev.session)) && (startNs === undefined || ev.recvNs >= startNs) && (endNs === undefined || ev.recvNs < endNs));
    }
  }
  const sessions = (): string[] => stream.sessions().filter((s) => only === undefined || only.includes(s));
  return {
    // Records, repeats included: the topic's length is all that is known before reading it.
    batches: batches(), total: stream.records, resends: () => stream.resends(), onlyResent: () => stream.onlyResent(),
    get sessions() {
      return sessions();
    },
    get inputs() {
      return [{ file: `${opts.from} partitions ${stream.partitions.join(',')}`, sessions: sessions() }];
    },
  };
}

export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  try {
    return await replayOnce(opts);
  } catch (err) {
    // A late backlog (a crashed recorder's events delivered after a newer session's) sits
    // deeper in its partition than a bounded buffer can reorder: read the topic whole
    // instead, as before streaming, and say so. Nothing is written before the end of a run.
    if (!(err instanceof KafkaOrderError) || opts.group !== undefined || opts.kafkaWindow === Infinity) throw err;
    warnOf(opts)(`${err.message.replace(/; replay it from the Parquet archive$/, '')}; reading the whole topic into memory to replay it in order`);
    // The rows the first try sent are not the second's to add to (the dashboard would show both).
    for (const s of opts.sinks ?? []) s.restart?.();
    return await replayOnce({ ...opts, kafkaWindow: Infinity });
  }
}

const warnOf = (opts: ReplayOptions): ((line: string) => void) => opts.warn ?? ((l: string) => process.stderr.write(`tapedeck: warning: ${l}\n`));

async function replayOnce(opts: ReplayOptions): Promise<ReplayResult> {
  const t0 = performance.now();
  const range = { ...(opts.startNs !== undefined ? { startNs: opts.startNs } : {}), ...(opts.endNs !== undefined ? { endNs: opts.endNs } : {}) };
  checkOutputFolder(opts.out);
  const source = opts.from.startsWith('kafka://') ? await kafkaSource(opts, range) : await archiveSource(opts, range);
  try {
    return await run(opts, source, t0);
  } catch (err) {
    source.cache?.abandon();
    throw err;
  }
}

async function run(opts: ReplayOptions, source: Source, t0: number): Promise<ReplayResult> {
  const collector = new TableCollector();
  const extra = opts.sinks ?? [];
  const sink: OutputSink = extra.length === 0 ? collector : {
    emit<T extends TableName>(table: T, row: OutputTables[T][number]): void {
      collector.emit(table, row);
      for (const s of extra) s.emit(table, row);
    },
  };
  const engine = makePipeline(opts.config, sink, opts.strategy, undefined, source.cache?.decoders);
  let first: bigint | undefined;
  let last: bigint | undefined;
  const lateness = opts.speed === 'max' ? undefined : new Lateness();
  const batches = opts.speed === 'max' ? source.batches : readAhead(source.batches);
  for await (const batch of paceBatches(batches, opts.speed, opts.clock, lateness)) {
    if (batch.length === 0) continue;
    first ??= batch[0]!.recvNs;
    last = batch[batch.length - 1]!.recvNs;
    const tap = source.cache?.tap;
    if (tap === undefined) for (const ev of batch) engine.onLog(ev);
    else {
      for (const ev of batch) {
        tap(ev);
        engine.onLog(ev);
      }
    }
    for (const tap of opts.taps ?? []) for (const ev of batch) tap(ev);
    opts.onProgress?.(engine.stats.events, source.total);
    for (const x of extra) if (x.settle) await x.settle();
  }
  engine.finish();
  // Before the manifest: a cache found gives the adapters' counts back here.
  const cached = source.cache?.finish();
  if (extra.some((x) => x.lastRow)) {
    // The last rows go out now, and the sink's round trip runs beside the writing of the run's files (one turn of the event loop sends them).
    for (const x of extra) x.lastRow?.();
    await new Promise(setImmediate);
  }
  const manifest = writeRun(opts.out, collector.tables, engine.stats, opts.config, {
    command: 'replay',
    sessions: source.sessions,
    options: {
      speed: opts.speed, start: opts.startNs !== undefined ? nsToIsoExact(opts.startNs) : null,
      end: opts.endNs !== undefined ? nsToIsoExact(opts.endNs) : null, ...(opts.group !== undefined ? { group: opts.group } : {}),
      ...(lateness !== undefined ? { pacing_lateness: lateness.summary() } : {}),
    },
    inputs: source.inputs,
    firstNs: first,
    lastNs: last,
    ...(opts.strategy ? { strategy: opts.strategy } : {}),
  });
  const resends = source.resends?.();
  // Every command that replays a topic says it (replay, backtest, ui), not only the replay's CLI.
  const onlyResent = source.onlyResent?.() ?? 0;
  if (onlyResent > 0) warnOf(opts)(`${onlyResent} event${onlyResent === 1 ? ' was' : 's were'} read from a recorder's resent copy alone: their first copies are no longer in ${opts.from} (deleted by retention?)`);
  return { manifest, tables: collector.tables, elapsedMs: performance.now() - t0, ...(cached !== undefined ? { decodeCache: cached } : {}), ...(resends ? { resends } : {}) };
}
