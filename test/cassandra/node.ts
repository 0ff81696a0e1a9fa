/**
 * The real Cassandra node for tests and the bench: CASSANDRA_HOSTS when set (CI starts one
 * with test/cassandra/cassandra.sh), otherwise one started here with that script on a port
 * of its own. Missing Java or Maven is one clear line; TAPEDECK_SKIP_CASSANDRA=1 skips
 * (CI never sets it).
 */
import path from 'node:path';
import { ROOT } from '../helpers.ts';
import { startService, type Service } from '../service.ts';

const SCRIPT = path.join(ROOT, 'test/cassandra/cassandra.sh');

export interface CassandraNode extends Service {
  /** `host:port`, for a cassandra:// URL. */
  readonly hosts: string;
  /** `cassandra://<hosts>/<keyspace>`. */
  url(keyspace: string): string;
}

export const SKIP_CASSANDRA = process.env.TAPEDECK_SKIP_CASSANDRA === '1';

export function startCassandra(defaultPort = 19142): CassandraNode {
  const external = process.env.CASSANDRA_HOSTS;
  const port = external ? Number(external.split(',')[0]!.split(':')[1] ?? 9042) : defaultPort;
  const hosts = external ?? `127.0.0.1:${port}`;
  return { ...startService(SCRIPT, 'CASSANDRA_PORT', port, external !== undefined), hosts, url: (ks) => `cassandra://${hosts}/${ks}` };
}
