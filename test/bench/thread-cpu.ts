/**
 * CPU time per thread of this process, from /proc/self/task (Linux). A sampled profile on a
 * loaded machine counts the time a thread waits for a core as time in the function it was
 * in; this counts only what the kernel ran. A thread's task is gone once it ends (a worker's
 * at terminate()), so the tasks are read every 50 ms and each thread's last reading kept.
 */
import fs from 'node:fs';

/** The kernel's unit for a task's utime and stime (USER_HZ, 100 on Linux's common ABIs). */
const TICKS_PER_S = 100;

export interface ThreadTimes {
  /** The main thread's CPU seconds since `start`. */
  readonly main: number;
  /** Every other thread's, most first: worker threads, V8's background threads, libuv's pool. */
  readonly others: number[];
}

/** Samples the process's threads from now until `stop()`; undefined where /proc has no tasks. */
export function startThreadCpu(): { stop(): ThreadTimes } | undefined {
  if (!fs.existsSync('/proc/self/task')) return undefined;
  const before = read();
  const last = new Map(before);
  const sample = (): void => {
    for (const [tid, s] of read()) last.set(tid, Math.max(s, last.get(tid) ?? 0));
  };
  const timer = setInterval(sample, 50);
  timer.unref();
  return {
    stop(): ThreadTimes {
      clearInterval(timer);
      sample();
      const since = [...last].map(([tid, s]) => ({ tid, s: s - (before.get(tid) ?? 0) }));
      return {
        main: since.find((t) => t.tid === process.pid)?.s ?? 0,
        others: since.filter((t) => t.tid !== process.pid && t.s > 0).map((t) => t.s).sort((a, b) => b - a),
      };
    },
  };
}

/** utime + stime of each live thread, seconds. */
function read(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // ended between the listing and the read
    }
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), (Number(f[11]) + Number(f[12])) / TICKS_PER_S);
  }
  return out;
}
