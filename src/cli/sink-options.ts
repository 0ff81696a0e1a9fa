/** `--sink cassandra://host:port/keyspace`: parsing, opening and the summary line, for replay, record and verify. */
import type { EngineConfig } from '../engine/config.ts';
import type { CassandraSink, SinkReport } from '../storage/cassandra.ts';
import { parseCassandraUrl, type CassandraTarget } from '../storage/cassandra-schema.ts';
import { UserError, userInput } from './errors.ts';

export const SINK_DESCRIPTION = 'also write candles, indicators and arbitrage to Cassandra: cassandra://host:port/keyspace';

export function sinkTarget(url: string): CassandraTarget {
  if (!url.startsWith('cassandra://')) throw new UserError(`unknown --sink ${JSON.stringify(url)} (supported: cassandra://host:port/keyspace)`);
  return userInput(() => parseCassandraUrl(url));
}

/** Runs `fn`, turning Cassandra's one-line errors (unreachable, schema refused) into user errors. */
export async function cassandraInput<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const { CassandraError } = await import('../storage/cassandra.ts');
    if (err instanceof CassandraError) throw new UserError(err.message);
    throw err;
  }
}

/** A sink connected now: replay and verify need Cassandra before they start. */
export async function openSink(url: string, config: EngineConfig, say: (line: string) => void): Promise<CassandraSink> {
  // The driver loads only when a sink is asked for (replay's start-up).
  const { CassandraSink } = await import('../storage/cassandra.ts');
  const sink = new CassandraSink(sinkTarget(url), config, { say });
  await cassandraInput(() => sink.open());
  return sink;
}

export function sinkSummary(sink: CassandraSink, r: SinkReport): string {
  const counts = Object.entries(r.written).map(([t, n]) => `${t} ${n}`).join(', ');
  const total = Object.values(r.written).reduce((a, b) => a + b, 0);
  return `cassandra: ${total} rows written to keyspace ${sink.target.keyspace} at ${sink.target.hosts.join(',')} (${counts})`;
}
