/**
 * Frame arrival → spool commit: each logged event's arrival (monotonic clock), matched at
 * each commit with the events the spool committed, in order. What the recorder reports at
 * its stop (p50/p99/max) and what its metrics observe per exchange.
 */
import type { LogEvent } from '../src/log/event.ts';

/** Latencies kept for the closing percentiles (a recording longer than this keeps its first ones). */
const KEEP = 1_000_000;

export class CommitLatency {
  private readonly arrivals: bigint[] = [];
  private readonly latencies: number[] = [];

  /** An event was logged now (it waits for the next commit). */
  arrived(): void {
    this.arrivals.push(process.hrtime.bigint());
  }

  /** The spool committed `rows`, the oldest waiting events; `observe` gets each one's latency, ms. */
  committed(rows: readonly LogEvent[], observe: (ev: LogEvent, ms: number) => void): void {
    const now = process.hrtime.bigint();
    for (let i = 0; i < rows.length; i++) {
      const ms = Number(now - this.arrivals[i]!) / 1e6;
      observe(rows[i]!, ms);
      if (this.latencies.length < KEEP) this.latencies.push(ms);
    }
    this.arrivals.splice(0, rows.length);
  }

  /** How long the oldest waiting event has waited, s (0 when none waits). */
  lagSeconds(): number {
    return this.arrivals.length > 0 ? Number(process.hrtime.bigint() - this.arrivals[0]!) / 1e9 : 0;
  }

  summary(): { p50: number; p99: number; max: number } {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (p: number): number => sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
  }
}
