/**
 * The LogEvent: one thing that happened at the recorder's edge. It is the unit of truth
 * that every archive (Parquet, Kafka, spool) stores and every replay reads back.
 *
 * `payload` is the frame's text exactly as received and is never re-serialised: 64-bit ids
 * printed as JSON numbers, and the order of an object's keys, do not survive JSON.parse →
 * stringify.
 */
export const LOG_KINDS = ['frame', 'sent', 'open', 'close', 'tick', 'gap', 'rest', 'error'] as const;
export type LogKind = (typeof LOG_KINDS)[number];

export interface LogEvent {
  /** Recording session id; (session, ingestSeq) identifies an event everywhere. */
  readonly session: string;
  /** Total order within the session, from 0. */
  readonly ingestSeq: number;
  /** Local receive time, integer nanoseconds since the Unix epoch. */
  readonly recvNs: bigint;
  /** Exchange id: a key of the registry (src/exchanges/registry.ts), or a recording's own name for one tapedeck does not know. */
  readonly exchange: string;
  /** Connection id within the session. */
  readonly conn: string;
  readonly kind: LogKind;
  /** Exact text: a received or sent frame, a REST body for `rest`; empty for `open`/`close`/`tick`. */
  readonly payload: string;
  /** Context that is not the exchange's text: the URL of an `open` or `rest`, a close code. */
  readonly meta: string;
}

export function isLogKind(s: string): s is LogKind {
  return (LOG_KINDS as readonly string[]).includes(s);
}

/**
 * Whether two events with one (session, ingest_seq) are one event stored twice (a row
 * re-archived after a crash, a record resent to Kafka, a symbol-less event's copy in each
 * partition) rather than two recordings given one session id.
 */
export function sameLogEvent(a: LogEvent, b: LogEvent): boolean {
  return a.recvNs === b.recvNs && a.exchange === b.exchange && a.conn === b.conn && a.kind === b.kind && a.payload === b.payload && a.meta === b.meta;
}

/** The order replay merges in: receive time, then session, then ingest sequence. */
export function compareLogOrder(a: LogEvent, b: LogEvent): number {
  if (a.recvNs !== b.recvNs) return a.recvNs < b.recvNs ? -1 : 1;
  if (a.session !== b.session) return a.session < b.session ? -1 : 1;
  return a.ingestSeq - b.ingestSeq;
}
