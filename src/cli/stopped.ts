/**
 * Ctrl-C (or SIGTERM) during a paced run that writes its outputs only at its end: before,
 * the process was gone with exit 130 and nothing said, so whoever stopped a `replay --speed
 * 1x` could not tell how far it had got or whether anything was written. Now one line says
 * both, and the exit code is still the signal's (128 + its number).
 *
 * Only for paced runs: a run at --speed max may not turn the event loop until it ends (in-line
 * reading), and a listener would then hold Ctrl-C back instead of stopping at once.
 */
const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;

/** Says how far `what` got when a stop signal comes, then exits; the function returned takes the listeners off. */
export function sayWhenStopped(what: string, out: string, progress: () => { done: number; total: number }, first: () => void = () => {}): () => void {
  const on = (signal: keyof typeof SIGNALS): void => {
    first();
    const { done, total } = progress();
    process.stderr.write(`tapedeck: ${what} stopped (${signal}) after ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} events: nothing written to ${out}\n`);
    process.exit(128 + SIGNALS[signal]);
  };
  for (const s of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.once(s, on);
  return () => {
    for (const s of Object.keys(SIGNALS)) process.off(s, on);
  };
}
