/**
 * Frame arrival → spool commit: each logged event's arrival (monotonic clock, performance.now()), matched at
 * each commit with the events the spool committed, in order. What the recorder reports at
 * its stop (p50/p99/max) and what its metrics observe per exchange.
 */
import type { LogEvent } from '../src/log/event.ts';

/** Latencies kept for the closing percentiles (a recording longer than this keeps its first ones). */
const KEEP = 1_000_000;

export class CommitLatency {
  /** performance.now() of each event waiting for its commit, ms. */
  private arrivals: number[] = [];
  private readonly latencies: number[] = [];

  /** An event was logged now (it waits for the next commit). */
  arrived(): void {
    this.arrivals.push(performance.now());
  }

  /** The spool committed `rows`, the oldest waiting events; `observe` gets each one's latency, ms. */
  committed(rows: readonly LogEvent[], observe: (ev: LogEvent, ms: number) => void): void {
    const now = performance.now();
    for (let i = 0; i < rows.length; i++) {
      const ms = now - this.arrivals[i]!;
      observe(rows[i]!, ms);
      if (this.latencies.length < KEEP) this.latencies.push(ms);
    }
    this.arrivals = rows.length === this.arrivals.length ? [] : this.arrivals.slice(rows.length);
  }

  /** How long the oldest waiting event has waited, s (0 when none waits). */
  lagSeconds(): number {
    return this.arrivals.length > 0 ? (performance.now() - this.arrivals[0]!) / 1000 : 0;
  }

  summary(): { p50: number; p99: number; max: number } {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (p: number): number => sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
  }
}
