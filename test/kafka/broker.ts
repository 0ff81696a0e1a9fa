/**
 * The real Kafka broker for tests and the bench: KAFKA_BROKERS when set (CI starts one with
 * test/kafka/kafka.sh), otherwise one started here with that script on a port of its own.
 * Missing Java or Maven is one clear line; TAPEDECK_SKIP_KAFKA=1 skips (CI never sets it).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../helpers.ts';

const SCRIPT = path.join(ROOT, 'test/kafka/kafka.sh');

export interface Broker {
  readonly brokers: string;
  readonly port: number;
  readonly version: string;
  /** Whether kafka.sh manages it here (so stop/start can be tested). */
  readonly managed: boolean;
  stop(): void;
  start(): void;
  down(): void;
}

export const SKIP_KAFKA = process.env.TAPEDECK_SKIP_KAFKA === '1';

function sh(args: string[], port: number): string {
  try {
    return execFileSync('bash', [SCRIPT, ...args], { env: { ...process.env, KAFKA_PORT: String(port) }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const line = (e.stderr ?? '').trim().split('\n').filter((l) => l.startsWith('kafka.sh:')).at(-1) ?? e.message;
    throw new Error(line);
  }
}

export function startBroker(defaultPort = 19092): Broker {
  const external = process.env.KAFKA_BROKERS;
  const port = external ? Number(external.split(',')[0]!.split(':')[1]) : defaultPort;
  if (!external) sh(['up'], port);
  const status = sh(['status'], port).trim().split(' ');
  const managed = status[0] === 'running';
  return {
    brokers: external ?? `127.0.0.1:${port}`,
    port,
    version: managed ? status[2]! : 'external',
    managed,
    stop: () => void sh(['stop'], port),
    start: () => void sh(['start'], port),
    down: () => {
      if (!external) sh(['down'], port);
    },
  };
}
