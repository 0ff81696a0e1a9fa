/**
 * What `POST /_control` drives: fault injection per exchange (tests, curious users), and
 * for a re-served recording the playback clock of every connection (pause, resume, seek,
 * speed), which needs no exchange.
 */
import { SPEED_RANGE, inSpeedRange } from '../pace.ts';

export type ClockCommand =
  | { action: 'pause' }
  | { action: 'resume' }
  | { action: 'speed'; speed: number }
  /** `at`: an ISO-8601 receive time, epoch ms, or a time after the slice's first frame (`30s`). */
  | { action: 'seek'; at: string };

export const CLOCK_ACTIONS = ['pause', 'resume', 'speed', 'seek'] as const;

export type ControlCommand = ClockCommand | FaultCommand;

export type FaultCommand =
  | { action: 'disconnect'; exchange: string; mode?: 'close' | 'terminate' | 'shutdown' }
  | { action: 'drop'; exchange: string; count?: number }
  | { action: 'malformed'; exchange: string; count?: number }
  | { action: 'unknown'; exchange: string; count?: number }
  | { action: 'stall'; exchange: string; ms: number }
  | { action: 'refuse'; exchange: string; ms: number };

export const CONTROL_ACTIONS = ['disconnect', 'drop', 'malformed', 'unknown', 'stall', 'refuse'] as const;

/** Per-exchange fault state, read by the protocol handlers. */
export class Faults {
  dropTrades = 0;
  stalledUntilMs = 0;
  refusedUntilMs = 0;

  stalled(nowMs: number): boolean {
    return nowMs < this.stalledUntilMs;
  }

  refused(nowMs: number): boolean {
    return nowMs < this.refusedUntilMs;
  }
}

/** Bounds on `_control` input: each malformed/unknown frame is sent at once, so a count is work done now. */
export const MAX_CONTROL_COUNT = 10_000;
export const MAX_CONTROL_MS = 3_600_000;
const MODES = ['close', 'terminate', 'shutdown'];

export function parseControl(body: unknown): ControlCommand {
  const k = body as { action?: unknown; speed?: unknown; at?: unknown } | null;
  if (typeof k === 'object' && k !== null && CLOCK_ACTIONS.includes(k.action as never)) {
    if (k.action === 'speed' && !(typeof k.speed === 'number' && inSpeedRange(k.speed))) throw new Error(`speed needs "speed", a factor from ${SPEED_RANGE.min} to ${SPEED_RANGE.max} (as --speed takes)`);
    if (k.action === 'seek' && typeof k.at !== 'string') throw new Error('seek needs "at": an ISO-8601 time, epoch ms, or a time after the first frame such as "30s"');
    // Only the verb's own fields: a stray "exchange" must not make it read as a fault.
    if (k.action === 'speed') return { action: 'speed', speed: k.speed as number };
    if (k.action === 'seek') return { action: 'seek', at: k.at as string };
    return { action: k.action as 'pause' | 'resume' };
  }
  const c = body as Partial<FaultCommand> & { action?: string; exchange?: string; count?: unknown; ms?: unknown; mode?: unknown };
  if (typeof c !== 'object' || c === null || Array.isArray(c) || !CONTROL_ACTIONS.includes(c.action as never) || typeof c.exchange !== 'string') {
    throw new Error(`control needs {"action": ${CONTROL_ACTIONS.join('|')}, "exchange": …} or {"action": ${CLOCK_ACTIONS.join('|')}}`);
  }
  if (c.count !== undefined && !(Number.isInteger(c.count) && (c.count as number) >= 1 && (c.count as number) <= MAX_CONTROL_COUNT)) {
    throw new Error(`"count" must be an integer from 1 to ${MAX_CONTROL_COUNT}`);
  }
  if (c.action === 'stall' || c.action === 'refuse') {
    if (!(Number.isInteger(c.ms) && (c.ms as number) >= 0 && (c.ms as number) <= MAX_CONTROL_MS)) throw new Error(`${c.action} needs "ms", an integer from 0 to ${MAX_CONTROL_MS}`);
  }
  if (c.mode !== undefined && !MODES.includes(c.mode as string)) throw new Error(`"mode" must be one of ${MODES.join(', ')}`);
  return c as FaultCommand;
}
