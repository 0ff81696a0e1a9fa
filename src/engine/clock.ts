/**
 * One exchange's event-time clock, moved only by the log: trade and quote times, and the
 * recorder's `tick` events translated into exchange time through the clock offset that the
 * log itself shows. The engine never reads a wall clock, so a replay sees the same time.
 *
 * The offset is the smallest (receive − exchange) time seen so far: the least-delayed frame
 * is the best estimate of how far the local clock sits from the exchange's. It may be
 * negative (the real hftbacktest recording's local clock ran 1.27 s behind Binance).
 */
export class ExchangeClock {
  private offsetNs: bigint | undefined;
  /** Newest exchange time seen, µs (from an event, or a tick through the offset). */
  private newestUs = Number.NEGATIVE_INFINITY;

  observeTime(recvNs: bigint, tsUs: number): void {
    const off = recvNs - BigInt(tsUs) * 1000n;
    if (this.offsetNs === undefined || off < this.offsetNs) this.offsetNs = off;
    if (tsUs > this.newestUs) this.newestUs = tsUs;
  }

  /** A tick at local time `recvNs`: exchange time has reached at least recvNs − offset. */
  observeTick(recvNs: bigint): void {
    if (this.offsetNs === undefined) return;
    const est = Number((recvNs - this.offsetNs) / 1000n);
    if (est > this.newestUs) this.newestUs = est;
  }

  get newest(): number {
    return this.newestUs;
  }
}
