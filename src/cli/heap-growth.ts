/**
 * How far V8 lets a process's old generation grow past what it holds before the next full
 * collection, for the commands that make garbage at a high rate and hold little: a replay
 * from Kafka (replay.ts), a recording (record.ts) and the simulator (simulate.ts). V8's own
 * policy grows the heap by up to four times at a time when collections are quick, so the
 * process's RSS follows its garbage, not what it holds; a bounded growth keeps it near the
 * latter, for the CPU of more frequent collections. An environment variable sets the
 * percent per command, 0 leaving V8's own.
 */
import v8 from 'node:v8';
import { UserError } from './errors.ts';

/** Bounds the growth to `defaultPercent` per collection, or to what `variable` says (0: V8's own policy). */
export function boundHeapGrowth(variable: string, defaultPercent: number, env: NodeJS.ProcessEnv = process.env): void {
  const v = env[variable];
  const percent = v === undefined || v === '' ? defaultPercent : Number(v);
  if (!Number.isInteger(percent) || percent < 0 || percent > 1_000) throw new UserError(`bad ${variable} ${JSON.stringify(v)} (a whole percent, 0 for V8's own heap growth)`);
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
