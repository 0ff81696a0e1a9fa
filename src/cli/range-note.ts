/**
 * What `replay` and `backtest` say of a time range that holds nothing: its own module, so
 * that the backtest does not load the replay command's (the dashboard, the sinks) to say it.
 */

/** A range that misses the recording (a year typed wrong) is an empty run, not a silent one. */
export function warnIfNoneInRange(events: number, a: { from: string; start?: string; end?: string }): void {
  if (events > 0 || (a.start === undefined && a.end === undefined)) return;
  const range = [a.start !== undefined ? `from --start ${a.start}` : '', a.end !== undefined ? `before --end ${a.end}` : ''].filter(Boolean).join(' and ');
  process.stderr.write(`tapedeck: warning: no event of ${a.from} was received ${range}: the outputs are empty\n`);
}
