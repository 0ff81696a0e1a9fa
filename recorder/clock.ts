/**
 * The recorder's receive clock: wall time at start plus the monotonic clock since, in
 * integer nanoseconds. Stamps never go backwards (NTP steps cannot reorder a session) and
 * each LogEvent is stamped exactly once, where it arrives.
 */
export class RecvClock {
  private readonly wallNs = BigInt(Date.now()) * 1_000_000n;
  private readonly hr0 = process.hrtime.bigint();
  private last = 0n;

  nowNs(): bigint {
    let t = this.wallNs + (process.hrtime.bigint() - this.hr0);
    if (t <= this.last) t = this.last + 1n;
    this.last = t;
    return t;
  }
}
