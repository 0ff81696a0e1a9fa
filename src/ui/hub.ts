/**
 * The dashboard's state: every output row the page draws (candles, indicators, arbitrage,
 * late trades, gaps, decode errors), in emission order and in a JSON-safe wire form, plus
 * the session's health and progress. It is an OutputSink and a LogEvent tap, so `record`
 * and `replay` feed it exactly as they feed their other sinks; subscribers (the page's
 * sockets) get a snapshot, then batches of new rows every 100 ms.
 */
import type { OutputSink, OutputTables, TableName } from '../engine/rows.ts';
import type { LogEvent } from '../log/event.ts';
import { ConnTracker, type Health, type RecorderGauges } from './health.ts';

export const UI_TABLES = ['candles', 'indicators', 'arbitrage', 'late', 'gaps', 'decode_errors'] as const satisfies readonly TableName[];
export type UiTable = (typeof UI_TABLES)[number];

export type WireValue = string | number | boolean | null | Record<string, number | null>;
export type WireRow = Record<string, WireValue>;
export type WireTables = Record<UiTable, WireRow[]>;

export interface UiInfo {
  /** What is shown: an archive, an output directory, a Kafka topic, or the live exchanges. */
  readonly source: string;
  readonly mode: 'static' | 'replay' | 'record';
  /** Window names (`10s`, `1m`), shortest first. */
  readonly intervals: readonly string[];
  /** Indicator columns (`sma_20`, `ema_50`, `rsi_14`). */
  readonly indicators: readonly string[];
  readonly speed?: string;
}

export interface Progress { events: number; total: number | null }

export type UiMessage =
  | { type: 'snapshot'; info: UiInfo; tables: WireTables; health: Health; progress: Progress; done: boolean }
  | { type: 'rows'; tables: Partial<WireTables> }
  | { type: 'health'; health: Health }
  | { type: 'progress'; progress: Progress }
  | { type: 'done' };

const PAYLOAD_CHARS = 300;
/** Derived timestamp twins the Parquet files carry for dataframe users; the page uses the integers. */
const DERIVED = new Set(['window_time', 'recv_time', 'time']);

/**
 * One row as the page reads it: ns and µs times become ms numbers (`recv_ms`, `ts_ms`), other
 * 64-bit integers numbers when exact and strings when not, payloads cut to 300 characters.
 */
export function toWire(row: object): WireRow {
  const out: WireRow = {};
  for (const [k, v] of Object.entries(row)) {
    if (DERIVED.has(k) || v instanceof Date) continue;
    if (typeof v === 'bigint') {
      if (k.endsWith('_ns')) out[`${k.slice(0, -3)}_ms`] = Number(v / 1_000_000n);
      else if (k.endsWith('_us')) out[`${k.slice(0, -3)}_ms`] = Number(v / 1_000n);
      else out[k] = Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
    } else if (k === 'payload' && typeof v === 'string' && v.length > PAYLOAD_CHARS) {
      out[k] = `${v.slice(0, PAYLOAD_CHARS)}…`;
    } else {
      out[k] = v as WireValue;
    }
  }
  return out;
}

function emptyWire(): WireTables {
  return { candles: [], indicators: [], arbitrage: [], late: [], gaps: [], decode_errors: [] };
}

export class UiHub implements OutputSink {
  private readonly tables = emptyWire();
  private pending: Partial<WireTables> = {};
  private readonly listeners = new Set<(m: UiMessage) => void>();
  private conns = new ConnTracker();
  private gauges: (() => Promise<RecorderGauges>) | undefined;
  private health: Health;
  private progressNow: Progress = { events: 0, total: null };
  private finished = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(readonly info: UiInfo) {
    this.health = this.conns.health(undefined);
    this.timers.push(setInterval(() => this.flush(), 100), setInterval(() => void this.sampleHealth(), 1_000));
    for (const t of this.timers) t.unref();
  }

  emit<T extends TableName>(table: T, row: OutputTables[T][number]): void {
    if (!(UI_TABLES as readonly string[]).includes(table)) return;
    this.add(table as UiTable, toWire(row));
  }

  /** Rows read back from Parquet (a finished run's output directory). */
  add(table: UiTable, row: WireRow): void {
    this.tables[table].push(row);
    (this.pending[table] ??= []).push(row);
  }

  /** Every LogEvent as it is folded: connection health in recorded time. */
  readonly tap = (ev: LogEvent): void => {
    this.conns.onLog(ev);
    this.progressNow.events++;
  };

  /** The recorder's own gauges and counters (spool and Kafka lag, backfills), read each second. */
  watchRecorder(read: () => Promise<RecorderGauges>): void {
    this.gauges = read;
  }

  /** How many events the run will fold, when its source knows (an archive does); a finished run also says how many it folded. */
  expect(total: number, events?: number): void {
    this.progressNow.total = total;
    if (events !== undefined) this.progressNow.events = events;
  }

  /** The run is over: everything is sent, and the page says so. */
  done(): void {
    this.flush();
    void this.sampleHealth().then(() => {
      this.finished = true;
      this.send({ type: 'done' });
    });
  }

  /**
   * The run starts over (a Kafka replay that finds it must read its topic whole, after rows
   * went out): what it sent is dropped, and each page starts again from the empty snapshot,
   * so that no row of the first try is shown beside the same row of the second.
   */
  restart(): void {
    for (const rows of Object.values(this.tables)) rows.length = 0;
    this.pending = {};
    this.conns = new ConnTracker();
    this.health = this.conns.health(undefined);
    this.progressNow = { events: 0, total: this.progressNow.total };
    this.send(this.snapshot());
  }

  snapshot(): UiMessage {
    return { type: 'snapshot', info: this.info, tables: this.tables, health: this.health, progress: this.progressNow, done: this.finished };
  }

  subscribe(fn: (m: UiMessage) => void): () => void {
    // Rows not yet sent go to the others first: the snapshot holds them, and must not be followed by them.
    this.flush();
    fn(this.snapshot());
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    this.listeners.clear();
  }

  private flush(): void {
    if (Object.keys(this.pending).length === 0) return;
    const tables = this.pending;
    this.pending = {};
    this.send({ type: 'rows', tables });
  }

  private async sampleHealth(): Promise<void> {
    this.health = this.conns.health(this.gauges ? await this.gauges() : undefined);
    this.send({ type: 'health', health: this.health });
    this.send({ type: 'progress', progress: this.progressNow });
  }

  private send(m: UiMessage): void {
    for (const fn of this.listeners) fn(m);
  }
}
