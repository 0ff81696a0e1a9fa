/** A progress bar on a TTY (cli-progress); nothing when output is piped or in CI. */
import cliProgress from 'cli-progress';

export function progressBar(label: string): { update(done: number, total: number): void; stop(): void; abort(): void } {
  if (!process.stderr.isTTY || process.env.CI) return { update: () => {}, stop: () => {}, abort: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} events | {eta_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let last = 0;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      last = total;
      bar.update(done);
    },
    stop() {
      if (!started) return;
      bar.update(last);
      bar.stop();
    },
    /** Off the terminal where it stands (a run stopped part-way: not filled to its end). */
    abort() {
      if (started) bar.stop();
    },
  };
}
