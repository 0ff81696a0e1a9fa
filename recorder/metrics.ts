/**
 * `/metrics` in the Prometheus text format (prom-client), on loopback by default: frames
 * per exchange, reconnects, gaps, backfilled trades, decode errors, unknown messages,
 * connection errors, spool lag, Kafka backlog, commit latency per exchange, and the memory the
 * recorder still holds after each of V8's full collections.
 *
 * Names follow Prometheus' conventions (https://prometheus.io/docs/practices/naming/):
 * counters end in `_total`, durations are `_seconds`, and per-exchange series carry an
 * `exchange` label. Rates are left to PromQL (`rate(tapedeck_frames_total[30s])`) rather
 * than exported as gauges; `deploy/prometheus.yml` scrapes this endpoint.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import client from 'prom-client';
import { BucketHistogram } from './latency-histogram.ts';

export class RecorderMetrics {
  readonly registry = new client.Registry();
  readonly frames = new client.Counter({
    name: 'tapedeck_frames_total', help: 'WebSocket frames received', labelNames: ['exchange'], registers: [this.registry],
    // Counted in plain numbers, handed to the counter when it is read (its inc() hashes and checks its labels on every call).
    collect: () => {
      for (const [exchange, c] of this.frameCounts) this.countTo(this.frames, exchange, c.n);
    },
  });
  readonly reconnects = new client.Counter({ name: 'tapedeck_reconnects_total', help: 'Reconnections', labelNames: ['exchange'], registers: [this.registry] });
  readonly connectionErrors = new client.Counter({ name: 'tapedeck_connection_errors_total', help: 'Connection errors (refused, stalled, HTTP errors)', labelNames: ['exchange'], registers: [this.registry] });
  readonly gaps = new client.Counter({ name: 'tapedeck_gaps_total', help: 'Trade-id gaps detected', labelNames: ['exchange'], registers: [this.registry] });
  readonly backfilled = new client.Counter({ name: 'tapedeck_backfilled_trades_total', help: 'Trades fetched by REST backfill', labelNames: ['exchange'], registers: [this.registry] });
  readonly backfillFailures = new client.Counter({ name: 'tapedeck_backfill_failures_total', help: 'Backfills given up', labelNames: ['exchange'], registers: [this.registry] });
  readonly decodeErrors = new client.Counter({ name: 'tapedeck_decode_errors_total', help: 'Frames the adapter could not read (malformed)', labelNames: ['exchange'], registers: [this.registry] });
  readonly unknownMessages = new client.Counter({ name: 'tapedeck_unknown_messages_total', help: 'Frames of a message type the adapter does not know', labelNames: ['exchange'], registers: [this.registry] });
  readonly spoolLag = new client.Gauge({ name: 'tapedeck_spool_lag_seconds', help: 'Age of the oldest event not yet committed to the spool', registers: [this.registry] });
  readonly spoolPending = new client.Gauge({ name: 'tapedeck_spool_pending_events', help: 'Events waiting for the next spool commit', registers: [this.registry] });
  readonly kafkaDelivered = new client.Counter({ name: 'tapedeck_kafka_delivered_total', help: 'LogEvents delivered to the Kafka raw topic', registers: [this.registry] });
  readonly kafkaPending = new client.Gauge({ name: 'tapedeck_kafka_pending_events', help: 'LogEvents waiting in the spool for Kafka', registers: [this.registry] });
  readonly commitLatency = new BucketHistogram({
    name: 'tapedeck_commit_latency_seconds', help: 'From an exchange event\'s arrival to its spool commit', labelName: 'exchange', registers: [this.registry],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  });
  readonly liveMemory = new client.Gauge({
    name: 'tapedeck_live_memory_bytes', labelNames: ['space'], registers: [this.registry],
    help: 'Memory the main thread still holds just after V8\'s last full collection: its old generation (space="heap") and what its objects own outside the heap, Buffers and ArrayBuffers (space="external")',
  });
  private server: http.Server | undefined;
  private gcObserver: PerformanceObserver | undefined;
  /** By exchange: frames received, read by the counter's collect(). */
  private readonly frameCounts = new Map<string, { n: number }>();
  private readonly counted = new Map<client.Counter<'exchange'>, Map<string, number>>();

  /** Every per-exchange series from zero, so the first increment is a visible rate. */
  init(exchanges: readonly string[]): void {
    const counters = [this.frames, this.reconnects, this.connectionErrors, this.gaps, this.backfilled, this.backfillFailures, this.decodeErrors, this.unknownMessages];
    for (const exchange of exchanges) {
      for (const c of counters) c.inc({ exchange }, 0);
      this.commitLatency.zero(exchange);
    }
    this.observeLiveMemory();
  }

  /**
   * After every full (mark-compact) collection, what survived it. Unlike RSS or heapUsed, which
   * rise and fall with how much garbage V8 lets pile up before it collects (and that differs by
   * V8 version: Node 26's young generation is twice Node 20's), this is what the recorder holds:
   * a backlog kept in memory shows here however the collector is tuned. The young generation is
   * left out: it is empty after a full collection, and refills before the observer is called.
   */
  private observeLiveMemory(): void {
    this.gcObserver?.disconnect();
    this.gcObserver = new PerformanceObserver((list) => {
      if (!list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) return;
      let old = 0;
      for (const space of v8.getHeapSpaceStatistics()) if (!space.space_name.startsWith('new_')) old += space.space_used_size;
      this.liveMemory.set({ space: 'heap' }, old);
      this.liveMemory.set({ space: 'external' }, v8.getHeapStatistics().external_memory);
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  /** One more frame from `exchange`. */
  frame(exchange: string): void {
    let c = this.frameCounts.get(exchange);
    if (c === undefined) this.frameCounts.set(exchange, (c = { n: 0 }));
    c.n++;
  }

  /** An event of `exchange` committed to the spool `seconds` after it arrived. */
  committed(exchange: string, seconds: number): void {
    this.commitLatency.observe(exchange, seconds);
  }

  /** Brings a counter up to `total` (the engine keeps the running count; a counter only grows). */
  countTo(counter: client.Counter<'exchange'>, exchange: string, total: number): void {
    const seen = this.counted.get(counter) ?? new Map<string, number>();
    this.counted.set(counter, seen);
    const before = seen.get(exchange) ?? 0;
    if (total > before) {
      counter.inc({ exchange }, total - before);
      seen.set(exchange, total);
    }
  }

  /** Serves /metrics; resolves to its URL. */
  async serve(host: string, port: number): Promise<string> {
    this.server = http.createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      void this.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': this.registry.contentType });
        res.end(text);
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    const a = this.server.address() as AddressInfo;
    return `http://${host}:${a.port}/metrics`;
  }

  async close(): Promise<void> {
    this.gcObserver?.disconnect();
    if (this.server === undefined) return;
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    // A scraper's keep-alive connection accepted but not yet read from is not idle, and close()
    // keeps it: a scrape every few seconds would then hold the stop open for good.
    this.server.closeAllConnections();
    await closed;
  }
}
