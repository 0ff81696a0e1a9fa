/**
 * Ctrl-C (or SIGTERM) during a paced run that writes its outputs only at its end: before,
 * the process was gone with exit 130 and nothing said, so whoever stopped a `replay --speed
 * 1x` could not tell how far it had got or whether anything was written. Now one line says
 * both, and the process still dies of the signal (a shell running it in a loop stops too).
 *
 * Only for paced runs: a run at --speed max may not turn the event loop until it ends (in-line
 * reading), and a listener would then hold Ctrl-C back instead of stopping at once.
 */
import os from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface StopWatch {
  /** Takes the listeners off (the run ended, or failed). */
  off(): void;
}

/**
 * Says how far `what` got when a stop signal comes, then dies of it. `first` runs before the
 * line (a progress bar taken off the terminal); `sinks` names where rows already went.
 */
export function sayWhenStopped(what: string, out: string, progress: () => { done: number; total: number }, o: { first?: () => void; sinks?: string } = {}): StopWatch {
  const on = (signal: (typeof SIGNALS)[number]): void => {
    off();
    o.first?.();
    const { done, total } = progress();
    const n = (x: number): string => x.toLocaleString('en-US');
    const far = total > 0 ? `${n(done)} of ${n(total)}` : n(done);
    const sent = o.sinks !== undefined ? ` (the rows sent to ${o.sinks} so far stay there)` : '';
    process.stderr.write(`tapedeck: ${what} stopped (${signal}) after ${far} events: nothing written to ${out}${sent}\n`);
    // Dying of the signal, as without this listener; should another listen, its exit code.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    else process.exit(128 + os.constants.signals[signal]);
  };
  const off = (): void => {
    for (const s of SIGNALS) process.off(s, on);
  };
  for (const s of SIGNALS) process.once(s, on);
  return { off };
}
