/**
 * One exchange's event-time clock, moved only by the log: trade and quote times, and the
 * recorder's `tick` events translated into exchange time through the clock offset that the
 * log itself shows. The engine never reads a wall clock, so a replay sees the same time.
 *
 * The offset is the smallest (receive − exchange) time seen so far: the least-delayed frame
 * is the best estimate of how far the local clock sits from the exchange's. It may be
 * negative (the real hftbacktest recording's local clock ran 1.27 s behind Binance).
 *
 * A tick may not run ahead of what the connections have delivered. A recorder that falls
 * behind (saturated, or stalled) still ticks on time while its sockets hold seconds of unread
 * frames; through the offset alone, such a tick would close the windows those frames belong
 * to, and their trades would go to `late` from candles called complete. While a connection
 * is delivering timed frames, its own frames move time (they come in exchange order), so a
 * tick moves it only once every connection has been silent for `BUSY_NS` of local time: a
 * backlog delivers without pause, and a quiet market's windows still close on ticks.
 */
export const BUSY_NS = 5_000_000_000n;

export class ExchangeClock {
  private offsetNs: bigint | undefined;
  /** Newest exchange time seen, µs (from an event, or a tick through the offset). */
  private newestUs = Number.NEGATIVE_INFINITY;
  /** Per live connection: when its latest timed frame was received. */
  private readonly conns = new Map<string, bigint>();

  /** An event time; `conn` names the live connection it arrived on (none for REST or imports without one). */
  observeTime(recvNs: bigint, tsUs: number, conn?: string): void {
    const off = recvNs - BigInt(tsUs) * 1000n;
    if (this.offsetNs === undefined || off < this.offsetNs) this.offsetNs = off;
    if (tsUs > this.newestUs) this.newestUs = tsUs;
    if (conn !== undefined) this.conns.set(conn, recvNs);
  }

  /** The connection opened or closed: what it had not delivered is gone with it. */
  forget(conn: string): void {
    this.conns.delete(conn);
  }

  /** A new recorder session: none of the old connections exist any more. */
  forgetAll(): void {
    this.conns.clear();
  }

  /** A tick at local time `recvNs`: with every connection quiet, exchange time has reached at least recvNs − offset. */
  observeTick(recvNs: bigint): void {
    if (this.offsetNs === undefined) return;
    for (const last of this.conns.values()) if (recvNs - last < BUSY_NS) return;
    const est = Number((recvNs - this.offsetNs) / 1000n);
    if (est > this.newestUs) this.newestUs = est;
  }

  get newest(): number {
    return this.newestUs;
  }
}
