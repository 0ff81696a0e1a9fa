/**
 * A real server for tests and the bench (Kafka, Cassandra), run by its script
 * (`test/<x>/<x>.sh up|start|stop|down|status`, the port in an environment variable).
 * `external`: someone else started it (CI, once, with the same script); `up` is skipped
 * and `down` leaves it running. Script failures become one line, the script's own.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface Service {
  readonly port: number;
  /** The version the script runs, or `external`. */
  readonly version: string;
  /** Whether the script manages it on this port (so stop/start can be tested). */
  readonly managed: boolean;
  stop(): void;
  start(): void;
  down(): void;
}

export function startService(script: string, portVariable: string, port: number, external: boolean): Service {
  const name = path.basename(script);
  const sh = (args: string[]): string => {
    try {
      return execFileSync('bash', [script, ...args], { env: { ...process.env, [portVariable]: String(port) }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error((e.stderr ?? '').trim().split('\n').filter((l) => l.startsWith(`${name}:`)).at(-1) ?? e.message);
    }
  };
  if (!external) sh(['up']);
  const status = sh(['status']).trim().split(' ');
  const managed = status[0] === 'running';
  return {
    port, version: managed ? status[2]! : 'external', managed,
    stop: () => void sh(['stop']),
    start: () => void sh(['start']),
    down: () => {
      if (!external) sh(['down']);
    },
  };
}
