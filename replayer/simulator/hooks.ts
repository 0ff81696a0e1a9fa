/** Fault injection the tests (and curious users) drive through `POST /_control`. */
export type ControlCommand =
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

export function parseControl(body: unknown): ControlCommand {
  const c = body as Partial<ControlCommand> & { action?: string; exchange?: string };
  if (typeof c !== 'object' || c === null || !CONTROL_ACTIONS.includes(c.action as never) || typeof c.exchange !== 'string') {
    throw new Error(`control needs {"action": ${CONTROL_ACTIONS.join('|')}, "exchange": …}`);
  }
  if ((c.action === 'stall' || c.action === 'refuse') && typeof (c as { ms?: unknown }).ms !== 'number') {
    throw new Error(`${c.action} needs "ms"`);
  }
  return c as ControlCommand;
}
