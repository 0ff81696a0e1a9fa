/**
 * `tapedeck record`: connections → LogEvents stamped once at arrival → spool (committed
 * every ≤ 100 ms) → Parquet archive, and the same LogEvents, in the same order, into the
 * live pipeline, whose outputs are written exactly as `replay` writes them.
 */
import path from 'node:path';
import { makePipeline, type StrategySetup } from '../strategies/runner.ts';
import type { EngineConfig } from '../src/engine/config.ts';
import { TableCollector, type OutputSink, type OutputTables, type TableName } from '../src/engine/rows.ts';
import type { LogEvent, LogKind } from '../src/log/event.ts';
import { nsToIso } from '../src/log/time.ts';
import { writeRun, type Manifest } from '../src/storage/run.ts';
import { checkOutputFolder } from '../src/storage/out-folder.ts';
import { readFault, removeSpool } from './archiver.ts';
import { ArchiveRoller, InlineRoller } from './roller.ts';
import { badSession, RecordError, removeOwnPidFile, sessionId, startSpool } from './session.ts';
import { MAX_GAP_BACKFILL, backfill } from './backfill.ts';
import { KafkaForwarder } from './kafka-forwarder.ts';
import { KafkaBacklog } from './kafka-backlog.ts';
import { KafkaPump } from './kafka-pump.ts';
import { CommitLatency } from './commit-latency.ts';
import { RecvClock } from './clock.ts';
import { SupervisedConnection } from './connection.ts';
import { RecorderMetrics } from './metrics.ts';
import { venue, type Venue, type VenueChoices } from './venues.ts';
import { diskFault, ensureWritableDir } from './disk.ts';
import { restartBackfill } from './restart.ts';

/** The longest a Node timer waits (2^31 − 1 ms, ~24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RecordOptions {
  readonly exchanges: readonly string[];
  /** Canonical names, e.g. BTC-USD. */
  readonly symbols: readonly string[];
  /** Data root: archive in <out>/raw, outputs in <out>/out/<session>, spool in <out>/spool. */
  readonly out: string;
  readonly durationMs?: number;
  readonly endpoints?: Readonly<Record<string, { ws: string; rest: string }>>;
  /** Per exchange: native symbols named as they are (instead of `symbols`), its API key. */
  readonly choices?: Readonly<Record<string, VenueChoices>>;
  readonly config: EngineConfig;
  readonly tickMs?: number;
  readonly commitMs?: number;
  readonly rollMs?: number;
  /**
   * Archive on a worker thread instead of at each commit on the ingest thread. Off by
   * default: the worker's own heap costs 20–90 MiB of RSS (see recorder/roller.ts).
   */
  readonly rollThread?: boolean;
  readonly metrics?: { host: string; port: number } | null;
  readonly session?: string;
  /** Extra sinks for live rows (console view, Kafka). */
  readonly sinks?: OutputSink[];
  /** Extra consumers of every LogEvent as it is logged (Kafka). */
  readonly taps?: ((ev: LogEvent) => void)[];
  readonly signal?: AbortSignal;
  /**
   * A stop request while stopping (a second Ctrl-C): stop waiting on the network (the
   * exchanges' close handshakes, backfills under way, Kafka); what was recorded is still
   * written whole.
   */
  readonly hurry?: AbortSignal;
  /** Called when the recording stops (`signal`, `durationMs`, a disk fault) and the stop begins. */
  readonly onStopping?: () => void;
  readonly say?: (line: string) => void;
  readonly backoff?: { initialMs: number; maxMs: number };
  /** Override every venue's dead-connection silence limit. */
  readonly silenceMs?: number;
  /** Paper-trade this strategy on the live events. */
  readonly strategy?: StrategySetup;
  /** Also produce every LogEvent (and the live outputs) to Kafka. */
  readonly kafka?: { brokers: string[]; prefix: string; partitions: number };
  /** Called once the live pipeline has emitted its last row: a sink may start its own closing beside the rest of the stop. */
  readonly onLastRow?: () => void;
  /** Given the recorder's metrics once they exist (the dashboard reads its health from them). */
  readonly onMetrics?: (metrics: RecorderMetrics) => void;
}

export interface RecordResult {
  readonly session: string;
  readonly archive: string;
  readonly outDir: string;
  readonly manifest: Manifest;
  readonly archiveFiles: string[];
  readonly events: number;
  /** Frame arrival → spool commit, ms. */
  readonly commitLatencyMs: { p50: number; p99: number; max: number };
  readonly metricsUrl: string | undefined;
  /** Events delivered to Kafka, and the raw topic. */
  readonly kafka?: { topic: string; delivered: number; undelivered: number };
  /** Backfills still under way when the stop stopped waiting for them: the trades of their gaps are not in the recording. */
  readonly abandonedBackfills: number;
}

/** Ingest_seqs of delivered events each commit prunes from the spool at most (whole batches are deleted as the mark passes them). */
const PRUNE_PER_COMMIT = 20_000;

export async function record(o: RecordOptions): Promise<RecordResult> {
  const say = o.say ?? (() => {});
  const invalid = o.session !== undefined ? badSession(o.session) : undefined;
  if (invalid) throw new RecordError(invalid, 2);
  const rawDir = path.join(o.out, 'raw');
  const spoolDir = path.join(o.out, 'spool');
  checkOutputFolder(o.out);
  const unwritable = ensureWritableDir(o.out) ?? ensureWritableDir(spoolDir);
  // A --out that is a file (or lies under one) is the user's to correct, as bad input is (exit 2); a disk that refuses is the machine's (exit 1).
  if (unwritable) throw new RecordError(`cannot write to --out ${o.out}: ${unwritable.what} (${unwritable.code})`, unwritable.code === 'ENOTDIR' ? 2 : 1);
  const session = o.session ?? sessionId();
  const started = startSpool(spoolDir, rawDir, session, o.kafka !== undefined, say);
  // The spool's .pid says a recorder is at work: it goes when this one stops, however it stops
  // (a kept spool included); an exit at once (a third Ctrl-C) goes through 'exit'.
  const dropPid = (): void => removeOwnPidFile(started.spoolFile);
  process.once('exit', dropPid);
  try {
    return await recordInto(o, say, session, rawDir, started);
  } finally {
    process.off('exit', dropPid);
    dropPid();
  }
}

/** The recording itself, into the spool `startSpool` opened: from the connections to the stop. */
async function recordInto(o: RecordOptions, say: (line: string) => void, session: string, rawDir: string, { recovered, spool, spoolFile }: ReturnType<typeof startSpool>): Promise<RecordResult> {
  if (o.kafka) spool.setMeta('kafka.prefix', o.kafka.prefix);
  const metrics = new RecorderMetrics();
  metrics.init(o.exchanges);
  o.onMetrics?.(metrics);
  const metricsUrl = o.metrics ? await metrics.serve(o.metrics.host, o.metrics.port) : undefined;
  const clock = new RecvClock();
  const collector = new TableCollector();
  const venues = new Map<string, Venue>(o.exchanges.map((x) => [x, venue(x, o.symbols, o.endpoints?.[x], o.choices?.[x])]));
  const inflight = new Set<Promise<void>>();
  let seq = 0;
  let stopping = false;
  let first: bigint | undefined;
  let last: bigint | undefined;
  const latency = new CommitLatency();

  const kafka = o.kafka ? new KafkaForwarder(spool, session, { ...o.kafka, say, onDelivered: (n) => metrics.kafkaDelivered.inc(n) }) : undefined;
  const backlog = o.kafka ? new KafkaBacklog(recovered.kept, { ...o.kafka, say, onDelivered: (n) => metrics.kafkaDelivered.inc(n) }) : undefined;
  const consumers = kafka ? ['archive', 'kafka'] : ['archive'];
  // Committed events go into the archive's open files at each commit (a disk fault there stops the recording).
  const roller = new (o.rollThread ? ArchiveRoller : InlineRoller)(spool, session, rawDir, (err) => faulted(err, rawDir));
  const sink: OutputSink = {
    emit<T extends TableName>(table: T, row: OutputTables[T][number]): void {
      collector.emit(table, row);
      for (const s of o.sinks ?? []) s.emit(table, row);
      kafka?.sink.emit(table, row);
      if (table === 'gaps') {
        const g = row as OutputTables['gaps'][number];
        metrics.gaps.inc({ exchange: g.exchange });
        const v = venues.get(g.exchange);
        // A gap comes before the trade that revealed it: the symbol's newest trade is the last one before it.
        const sinceUs = newestTradeUs.get(g.exchange)?.get(g.symbol);
        // Backfill after this event is folded: its response is logged as a later event.
        if (v?.trades) setImmediate(() => gapBackfill(v, g.symbol, g.from_id, g.to_id, sinceUs));
      }
    },
  };
  // Each symbol's newest exchange time of a trade, by exchange: where a gap's backfill starts on an exchange whose REST pages by time.
  const newestTradeUs = new Map<string, Map<string, number>>();
  const engine = makePipeline(o.config, sink, o.strategy, (m) => {
    if (m.type !== 'trade') return;
    let bySymbol = newestTradeUs.get(m.exchange);
    if (bySymbol === undefined) newestTradeUs.set(m.exchange, (bySymbol = new Map()));
    const t = bySymbol.get(m.symbol);
    if (t === undefined || m.tsUs > t) bySymbol.set(m.symbol, m.tsUs);
  });

  /** Stamps and logs one event: spool, live pipeline, taps. The only place ingestSeq grows. */
  function log(kind: LogKind, exchange: string, conn: string, payload: string, meta: string): void {
    if (stopping && kind !== 'close' && kind !== 'error') return;
    const recvNs = clock.nowNs();
    const ev: LogEvent = { session, ingestSeq: seq++, recvNs, exchange, conn, kind, payload, meta };
    first ??= recvNs;
    last = recvNs;
    spool.add(ev);
    latency.arrived();
    engine.onLog(ev);
    for (const t of o.taps ?? []) t(ev);
    if (kind === 'frame') metrics.frame(exchange);
  }

  function startBackfill(v: Venue, symbol: string, fromId: bigint, toId: bigint, sinceUs?: number, signal?: AbortSignal): Promise<void> {
    if (stopping) return Promise.resolve();
    log('gap', v.exchange, 'rest', JSON.stringify({ symbol, from: String(fromId), to: String(toId), status: 'requested' }), v.restBase);
    const p = backfill({ exchange: v.exchange, symbol, fromId, toId, sinceUs }, {
      venue: v, ...(signal ? { signal } : {}),
      log: (kind, payload, meta) => log(kind, v.exchange, 'rest', payload, meta),
      onFilled: (n) => metrics.backfilled.inc({ exchange: v.exchange }, n),
      onFailed: (m) => {
        metrics.backfillFailures.inc({ exchange: v.exchange });
        say(`backfill of ${v.exchange} ${symbol} ${fromId}..${toId} failed: ${m}`);
      },
    }).finally(() => inflight.delete(p));
    inflight.add(p);
    return p;
  }

  /** A live gap's backfill, or, beyond MAX_GAP_BACKFILL trades (one absurd id in a frame), a failed gap said aloud. */
  function gapBackfill(v: Venue, symbol: string, fromId: bigint, toId: bigint, sinceUs?: number): void {
    const n = toId - fromId + 1n;
    if (n <= MAX_GAP_BACKFILL) return void startBackfill(v, symbol, fromId, toId, sinceUs);
    if (stopping) return;
    const why = `a gap of ${n} trades is more than the ${MAX_GAP_BACKFILL} a backfill fetches`;
    log('gap', v.exchange, 'rest', JSON.stringify({ symbol, from: String(fromId), to: String(toId), status: 'failed', error: why }), v.restBase);
    metrics.backfillFailures.inc({ exchange: v.exchange });
    say(`backfill of ${v.exchange} ${symbol} ${fromId}..${toId} not tried: ${why}; the gap stays flagged`);
  }

  // A disk fault (full, read-only, I/O error), a spool that does not read back, or any other
  // error writing the spool or the archive stops the recording: what is committed stays in
  // the spool for the next run to recover, and the user is told what was kept and lost.
  let fault: { what: string; code: string; where: string } | undefined;
  const halt = new AbortController();
  function faulted(err: unknown, file: string): void {
    const disk = diskFault(err);
    const read = disk ? undefined : readFault(err);
    fault ??= disk ? { ...disk, where: `writing ${file}` }
      : read ? { ...read, where: `reading ${spoolFile}` }
        // Anything else (a bug) stops the recording the same way, the spool kept, rather than
        // crashing out of a timer or being lost in a roll's rejection.
        : { what: `an unexpected error: ${(err as Error).message}`, code: String((err as { code?: unknown }).code ?? (err as Error).name), where: `with ${file}` };
    stopping = true;
    halt.abort();
  }

  function commit(): void {
    if (fault) return;
    let rows: LogEvent[];
    try {
      rows = spool.commit();
    } catch (err) {
      faulted(err, spoolFile);
      return;
    }
    // Ticks are the recorder's own (no exchange); the histogram is per exchange.
    latency.committed(rows, (ev, ms) => ev.exchange !== '' && metrics.committed(ev.exchange, ms / 1000));
    // The commit is done; the spool's upkeep and the archive's writing come after it.
    try {
      spool.pruneSome(session, consumers, PRUNE_PER_COMMIT);
      spool.checkpointIfDue();
    } catch (err) {
      faulted(err, spoolFile);
      return;
    }
    roller.add(rows);
  }

  // The session's first events: the trades made since the archive's last ones (before any
  // frame or tick can move a window's watermark past them).
  await restartBackfill({
    rawDir, venues: venues.values(), say,
    log: (v, kind, payload, meta) => log(kind, v.exchange, 'rest', payload, meta),
    backfill: startBackfill,
    ...(o.signal ? { stop: o.signal } : {}),
  });

  const timers: NodeJS.Timeout[] = [];
  timers.push(setInterval(commit, o.commitMs ?? 50));
  timers.push(setInterval(() => log('tick', '', '', '', ''), o.tickMs ?? 1000));
  timers.push(setInterval(() => {
    for (const x of o.exchanges) {
      const d = engine.stats.decode[x];
      metrics.countTo(metrics.decodeErrors, x, d?.errors ?? 0);
      metrics.countTo(metrics.unknownMessages, x, d ? Object.values(d.unknown).reduce((a, b) => a + b, 0) : 0);
    }
    metrics.spoolPending.set(spool.pendingCount);
    metrics.spoolLag.set(latency.lagSeconds());
  }, 1000));
  const rollEvery = o.rollMs ?? 60_000;
  const archiveFiles: string[] = [...recovered.files];
  /** Commits, then has the roller finish its archive files (the cursor moves once they are in place). */
  async function archive(): Promise<void> {
    commit();
    if (fault) return;
    archiveFiles.push(...await roller.roll().catch(() => []));
  }
  timers.push(setInterval(() => {
    if (!roller.rolling) void archive();
  }, rollEvery));
  const pump = kafka ? new KafkaPump(kafka, backlog, { commit, onPending: (n) => metrics.kafkaPending.set(n), say }) : undefined;
  pump?.start();

  /**
   * The stop after a disk fault: connections closed, nothing more written (no outputs: a
   * replay of the archive recomputes them), the spool closed as it is, and one line thrown.
   */
  async function stopOnFault(f: { what: string; code: string; where: string }): Promise<never> {
    for (const t of timers) clearInterval(t);
    pump?.stop();
    const lost = spool.pendingCount;
    await roller.close();
    await Promise.all(conns.map((c) => c.stop()));
    let kept = -1;
    try {
      kept = spool.count();
      spool.close();
    } catch {
      // Reading the spool back failed too; its committed pages are still on disk.
    }
    await kafka?.close();
    await backlog?.close();
    await metrics.close();
    const keptText = kept >= 0 ? `kept ${kept} committed events in the spool ${spoolFile}` : `kept the spool ${spoolFile} as committed`;
    throw new RecordError(`${f.what} (${f.code}) ${f.where}; stopped recording session ${session}: ${keptText} (the next record run on this --out recovers them into the archive)`
      + `${archiveFiles.length > 0 ? ` and ${archiveFiles.length} archive files in ${rawDir}` : ''}; lost ${lost} events received since the last commit; live outputs not written (replay the archive to recompute them)`);
  }

  const conns: SupervisedConnection[] = [];
  for (const v of venues.values()) {
    for (const c of v.connections) {
      conns.push(new SupervisedConnection({
        exchange: v.exchange, url: c.url, subscribe: c.subscribe, silenceMs: o.silenceMs ?? v.silenceMs, maxAgeMs: v.maxAgeMs, attempts: v.attempts,
        reconnectNotice: v.reconnectNotice, heartbeat: v.heartbeat,
        ...(o.backoff ? { backoff: o.backoff } : {}),
        // Whatever names the venue's API key (the URL of an `open` or `error`) is logged with it masked.
        log: (kind, conn, payload, meta) => log(kind, v.exchange, conn, v.mask(payload), v.mask(meta)),
        onReconnect: () => metrics.reconnects.inc({ exchange: v.exchange }),
        onError: () => metrics.connectionErrors.inc({ exchange: v.exchange }),
      }));
    }
  }
  for (const c of conns) c.start();
  say(`recording ${o.exchanges.join(', ')} (${o.symbols.join(', ')}) as session ${session}${metricsUrl ? `; metrics at ${metricsUrl}` : ''}`);

  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    // A timer waits 2^31 − 1 ms at most (Node fires a longer one at once): a --duration of a month is waited in turns,
    // on the monotonic clock a timer keeps (a step of the wall clock does not move the end).
    const end = performance.now() + (o.durationMs ?? 0);
    const wait = (): void => {
      const left = end - performance.now();
      timers.push(setTimeout(left > MAX_TIMER_MS ? wait : done, Math.min(Math.max(left, 0), MAX_TIMER_MS)));
    };
    if (o.durationMs !== undefined) wait();
    if (o.signal?.aborted) resolve();
    o.signal?.addEventListener('abort', done, { once: true });
    halt.signal.addEventListener('abort', done, { once: true });
  });
  o.onStopping?.();
  if (fault) return stopOnFault(fault);

  // Stop: close connections (their close events are logged), let backfills land, then fold
  // the last events and write everything. Nothing is logged after the engine finishes.
  await Promise.all(conns.map((c) => c.stop(o.hurry)));
  let giveUp: NodeJS.Timeout | undefined;
  const hurried = new Promise((r) => (o.hurry?.aborted ? r(undefined) : o.hurry?.addEventListener('abort', r, { once: true })));
  if (inflight.size > 0 && !o.hurry?.aborted) say(`stopping: waiting up to 10 s for ${inflight.size} backfill(s) under way (Ctrl-C to stop waiting: the trades of their gaps would be missing)`);
  await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => (giveUp = setTimeout(r, 10_000))), hurried]);
  clearTimeout(giveUp);
  const abandonedBackfills = inflight.size;
  if (abandonedBackfills > 0) say(`warning: ${abandonedBackfills} backfill(s) still under way were given up: the trades of their gaps are not in the recording`);
  stopping = true;
  for (const t of timers) clearInterval(t);
  pump?.stop();
  engine.finish();
  o.onLastRow?.();
  await archive();
  await roller.close();
  if (fault) return stopOnFault(fault);
  const kafkaGaveUp = kafka && pump ? await pump.finish(() => kafka.close(), o.hurry) : undefined;
  await backlog?.close();
  // When every consumer has everything, the spool file goes whole (deleting a minute of rows
  // one by one took seconds at a saturated stop); else what they have is pruned and it stays.
  const left = spool.countAfter(session, spool.deliveredUpTo(session, consumers));
  const forKafka = kafka?.pending() ?? 0;
  const passedOver = kafka?.passedOver() ?? 0;
  if (left > 0) spool.prune(session, consumers);
  spool.close();
  if (left === 0) removeSpool(spoolFile);
  else if (passedOver > 0) {
    // A damaged batch Kafka passed over holds the cursor, and the spool, back: recovery sets it aside.
    say(`warning: the spool ${spoolFile} holds a batch that does not read back (${passedOver} events: in the archive ${rawDir}, not in Kafka, as said above)`
      + `${forKafka > 0 ? ` and ${forKafka} events not delivered to Kafka (${kafka!.lastError ?? 'not reached'}; ${kafkaGaveUp ?? 'the stop gave up'})` : ''}; it is kept, and the next record run on this --out sets it aside in ${path.join(path.dirname(spoolFile), 'damaged')}${forKafka > 0 ? ', those events in it' : ''}`);
  } else if (forKafka === left) {
    say(`warning: ${left} events were not delivered to Kafka (${kafka!.lastError ?? 'not reached'}; ${kafkaGaveUp ?? 'the stop gave up'}); they are in the archive ${rawDir} and stay in the spool ${spoolFile}, and the next \`tapedeck record --out ${o.out} --kafka ${o.kafka!.brokers.join(',')}\` delivers them`);
  } else say(`warning: ${left} events stayed in the spool ${spoolFile}; the next record run recovers them`);
  const outDir = path.join(o.out, 'out', session);
  const manifest = writeRun(outDir, collector.tables, engine.stats, o.config, {
    command: 'record', sessions: [session],
    options: { exchanges: o.exchanges, symbols: o.symbols, archive: path.resolve(rawDir), started: first !== undefined ? nsToIso(first) : null },
    inputs: [], firstNs: first, lastNs: last, ...(o.strategy ? { strategy: o.strategy } : {}),
  });
  await metrics.close();
  return {
    session, archive: rawDir, outDir, manifest, archiveFiles, events: seq, metricsUrl,
    commitLatencyMs: latency.summary(),
    ...(kafka ? { kafka: { topic: kafka.rawTopic, delivered: kafka.delivered, undelivered: left } } : {}),
    abandonedBackfills,
  };
}
