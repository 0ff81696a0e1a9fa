/**
 * Recorder health for the dashboard. Connections are followed in the log itself (open,
 * close, frames per second of *recorded* time), so a replay at 20x shows the rates the
 * recording had, not twenty times them; the recorder's spool and Kafka lag and its backfill
 * counts come from its Prometheus registry, and exist only while recording.
 */
import type { Registry } from 'prom-client';
import type { LogEvent } from '../log/event.ts';

export interface ConnHealth {
  conn: string;
  exchange: string;
  open: boolean;
  /** Frames in the last whole second of recorded time. */
  frames_per_s: number;
  frames: number;
}

export interface ExchangeHealth {
  exchange: string;
  frames: number;
  opens: number;
  closes: number;
  /** REST responses logged (backfills and restart catch-up). */
  rest: number;
  /** From the recorder's metrics, while recording. */
  reconnects?: number;
  backfilled_trades?: number;
  backfill_failures?: number;
}

export interface RecorderGauges {
  spool_lag_s: number;
  spool_pending: number;
  kafka_pending: number;
  perExchange: Record<string, { reconnects: number; backfilled_trades: number; backfill_failures: number }>;
}

export interface Health {
  connections: ConnHealth[];
  exchanges: ExchangeHealth[];
  recorder: Omit<RecorderGauges, 'perExchange'> | null;
}

const SECOND = 1_000_000_000n;

interface ConnState { exchange: string; open: boolean; frames: number; second: bigint; inSecond: number; lastSecond: number }

export class ConnTracker {
  private readonly conns = new Map<string, ConnState>();
  private readonly exchanges = new Map<string, ExchangeHealth>();
  private latest = 0n;

  onLog(ev: LogEvent): void {
    if (ev.recvNs > this.latest) this.latest = ev.recvNs;
    if (ev.exchange === '') return;
    let x = this.exchanges.get(ev.exchange);
    if (!x) this.exchanges.set(ev.exchange, x = { exchange: ev.exchange, frames: 0, opens: 0, closes: 0, rest: 0 });
    if (ev.kind === 'rest') x.rest++;
    if (ev.conn === '' || ev.conn === 'rest') return;
    let c = this.conns.get(ev.conn);
    if (!c) this.conns.set(ev.conn, c = { exchange: ev.exchange, open: false, frames: 0, second: 0n, inSecond: 0, lastSecond: 0 });
    if (ev.kind === 'open') {
      c.open = true;
      x.opens++;
    } else if (ev.kind === 'close') {
      c.open = false;
      x.closes++;
    } else if (ev.kind === 'frame') {
      const s = ev.recvNs / SECOND;
      if (s !== c.second) {
        c.lastSecond = s === c.second + 1n ? c.inSecond : 0;
        c.second = s;
        c.inSecond = 0;
      }
      c.inSecond++;
      c.frames++;
      x.frames++;
    }
  }

  health(gauges: RecorderGauges | undefined): Health {
    const now = this.latest / SECOND;
    return {
      connections: [...this.conns].map(([conn, c]) => ({
        conn, exchange: c.exchange, open: c.open, frames: c.frames,
        frames_per_s: now === c.second + 1n ? c.inSecond : now === c.second ? c.lastSecond : 0,
      })),
      exchanges: [...this.exchanges.values()].map((x) => ({ ...x, ...gauges?.perExchange[x.exchange] })),
      recorder: gauges ? { spool_lag_s: gauges.spool_lag_s, spool_pending: gauges.spool_pending, kafka_pending: gauges.kafka_pending } : null,
    };
  }
}

/** The few recorder metrics the dashboard shows, read from its prom-client registry. */
export async function recorderGauges(registry: Registry): Promise<RecorderGauges> {
  const metrics = await registry.getMetricsAsJSON();
  const one = (name: string): number => Number(metrics.find((m) => m.name === name)?.values[0]?.value ?? 0);
  const perExchange: RecorderGauges['perExchange'] = {};
  const fields = { tapedeck_reconnects_total: 'reconnects', tapedeck_backfilled_trades_total: 'backfilled_trades', tapedeck_backfill_failures_total: 'backfill_failures' } as const;
  for (const m of metrics) {
    const field = fields[m.name as keyof typeof fields];
    if (field === undefined) continue;
    for (const v of m.values) {
      const x = String(v.labels.exchange ?? '');
      (perExchange[x] ??= { reconnects: 0, backfilled_trades: 0, backfill_failures: 0 })[field] = Number(v.value);
    }
  }
  return { spool_lag_s: one('tapedeck_spool_lag_seconds'), spool_pending: one('tapedeck_spool_pending_events'), kafka_pending: one('tapedeck_kafka_pending_events'), perExchange };
}
