/**
 * The real Kafka broker for tests and the bench: KAFKA_BROKERS when set (CI starts one with
 * test/kafka/kafka.sh), otherwise one started here with that script on a port of its own.
 * Missing Java or Maven is one clear line; TAPEDECK_SKIP_KAFKA=1 skips (CI never sets it).
 */
import path from 'node:path';
import { ROOT } from '../helpers.ts';
import { startService, type Service } from '../service.ts';

const SCRIPT = path.join(ROOT, 'test/kafka/kafka.sh');

export interface Broker extends Service {
  readonly brokers: string;
}

export const SKIP_KAFKA = process.env.TAPEDECK_SKIP_KAFKA === '1';

export function startBroker(defaultPort = 19092): Broker {
  const external = process.env.KAFKA_BROKERS;
  const port = external ? Number(external.split(',')[0]!.split(':')[1]) : defaultPort;
  return { ...startService(SCRIPT, 'KAFKA_PORT', port, external !== undefined), brokers: external ?? `127.0.0.1:${port}` };
}
