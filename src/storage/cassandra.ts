/**
 * Cassandra as an output sink, through the DataStax driver (the only module that imports
 * it). Rows are queued as the engine emits them and written beside the run by prepared,
 * idempotent INSERTs (upserts), grouped into one unlogged batch per partition, a bounded
 * number in flight. When Cassandra is down or slow the queue waits and a later pump
 * catches up; nothing blocks the caller, and `close` says what could not be written. With a
 * `pendingFile` (the recorder's) the rows that wait are kept on disk (cassandra-pending.ts):
 * durable, bounded, and written by the next run that opens the same file.
 */
import cassandra from 'cassandra-driver';
import type { EngineConfig } from '../engine/config.ts';
import { intervalName } from '../engine/config.ts';
import type { CandleRow, OutputSink, OutputTables, TableName } from '../engine/rows.ts';
import { cqlEncoder } from './cassandra-encode.ts';
import { PendingStore, type PendingRow } from './cassandra-pending.ts';
import { canonicalRows, digestRows } from './outputs.ts';
import { StopWait } from './stop-wait.ts';
import { indicatorColumns, type Manifest } from './run.ts';
import {
  SINK_TABLES, VIEW_TABLE, rowFromCassandra, tableSpec, viewRows, viewSpec, type CassandraTarget, type SinkTable, type WrittenTable,
} from './cassandra-schema.ts';

export { parseCassandraUrl, type CassandraTarget } from './cassandra-schema.ts';

/** Cassandra could not be reached or refused the schema: one line for the user. */
export class CassandraError extends Error {}

export interface CassandraSinkOptions {
  /** Where a change of state goes (down, back, dropped rows). */
  readonly say: (line: string) => void;
  /** Batches in flight at once (default 16). */
  readonly maxInFlight?: number;
  /**
   * Rows in one batch (all of one partition; default 256). Cassandra's batch size limits
   * (batch_size_warn/fail_threshold) leave single-partition batches alone (CASSANDRA-10876).
   */
  readonly rowsPerBatch?: number;
  /** Rows held while Cassandra is away (in memory, or on disk with `pendingFile`); beyond it the oldest are dropped, counted and said (default 2,000,000). */
  readonly maxQueue?: number;
  /** Where rows wait on disk while Cassandra is away (and what an earlier run left is read from). */
  readonly pendingFile?: string;
}

interface Pending extends PendingRow {
  readonly table: WrittenTable;
}

/** Longest a write may take before it counts as failed (beyond the driver's own read timeout: a request can wait for a connection). */
const WRITE_TIMEOUT_MS = 15_000;

/** `p`, or a rejection after `ms`: no await on the driver waits forever. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

function reason(err: unknown): string {
  const e = err as { message?: string; innerErrors?: Record<string, Error> };
  const inner = e.innerErrors ? Object.entries(e.innerErrors)[0] : undefined;
  return inner ? inner[1].message : String(e.message ?? err);
}

/**
 * What connecting costs is on a replay's path (the CLI connects before it starts), so the
 * driver is told what it would otherwise find out by asking: Apache Cassandra speaks the
 * driver's protocol v4 at most (the driver's first try, DSE's 0x42, costs a refused
 * handshake and a second socket), and only the sink's keyspace is read into the driver's
 * metadata (`connect` refreshes it: token-aware routing needs its replication), not every
 * keyspace's at connect and again after each schema change.
 */
function client(t: CassandraTarget, keyspace?: string): cassandra.Client {
  return new cassandra.Client({
    contactPoints: t.hosts, localDataCenter: t.localDataCenter, ...(keyspace ? { keyspace } : {}),
    protocolOptions: { maxVersion: cassandra.types.protocolVersion.v4 },
    isMetadataSyncEnabled: false,
    encoding: { useBigIntAsLong: true },
    socketOptions: { connectTimeout: 3_000, readTimeout: 12_000 },
    queryOptions: { prepare: true, isIdempotent: true, consistency: cassandra.types.consistencies.localQuorum },
    policies: { reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(1_000) },
  });
}

async function connect(t: CassandraTarget): Promise<cassandra.Client> {
  const c = client(t);
  try {
    await within(c.connect(), WRITE_TIMEOUT_MS, 'connecting');
  } catch (err) {
    void c.shutdown().catch(() => {});
    throw new CassandraError(`cannot reach Cassandra at ${t.hosts.join(',')} (${reason(err)})`);
  }
  return c;
}

/**
 * What the keyspace holds: each table's columns, and its index names; the keyspace's
 * replication read into the driver's metadata (its token-aware routing) at the same time.
 */
async function existing(c: cassandra.Client, ks: string): Promise<{ columns: Map<string, Set<string>>; indexes: Set<string> }> {
  const [cols, idx] = await Promise.all([
    c.execute('SELECT table_name, column_name FROM system_schema.columns WHERE keyspace_name = ?', [ks]),
    c.execute('SELECT index_name FROM system_schema.indexes WHERE keyspace_name = ?', [ks]),
    c.metadata.refreshKeyspace(ks),
  ]);
  const columns = new Map<string, Set<string>>();
  for (const r of cols.rows) {
    const t = String(r.table_name);
    if (!columns.has(t)) columns.set(t, new Set());
    columns.get(t)!.add(String(r.column_name));
  }
  return { columns, indexes: new Set(idx.rows.map((r) => String(r.index_name))) };
}

/**
 * Connects, creates the keyspace and tables when missing (new indicator columns are
 * added) and prepares the INSERTs. When everything is there already (every run after the
 * first) that is two reads of the schema, not a dozen DDL round trips.
 */
export async function connectCassandra(t: CassandraTarget, indicatorCols: readonly string[]): Promise<cassandra.Client> {
  const c = await connect(t);
  try {
    const specs = SINK_TABLES.map((table) => tableSpec(t.keyspace, table, indicatorCols));
    const have = await existing(c, t.keyspace);
    const complete = have.columns.has(VIEW_TABLE) && specs.every((s) => have.columns.has(s.name) && have.indexes.has(`${s.name}_session`)
      && s.columns.every((col) => have.columns.get(s.name)!.has(col.name)));
    if (!complete) await createTables(c, t, specs);
    await prepare(c, [...specs.map((s) => s.insert), viewSpec(t.keyspace).insert]);
  } catch (err) {
    void c.shutdown().catch(() => {});
    // The server answered no (a bad keyspace option, no permission): a problem to fix. Anything else is losing it mid-way.
    if (err instanceof cassandra.errors.ResponseError) throw new CassandraError(`Cassandra at ${t.hosts.join(',')} refused tapedeck's tables in keyspace ${t.keyspace}: ${reason(err)}`);
    throw new CassandraError(`lost Cassandra at ${t.hosts.join(',')} while creating tapedeck's tables (${reason(err)})`);
  }
  return c;
}

async function createTables(c: cassandra.Client, t: CassandraTarget, specs: readonly ReturnType<typeof tableSpec>[]): Promise<void> {
  await c.execute(`CREATE KEYSPACE IF NOT EXISTS ${t.keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${t.replication}}`);
  for (const spec of specs) await c.execute(spec.create);
  await c.execute(viewSpec(t.keyspace).create);
  const have = await existing(c, t.keyspace);
  for (const spec of specs) {
    for (const col of spec.columns) if (!have.columns.get(spec.name)?.has(col.name)) await c.execute(`ALTER TABLE ${t.keyspace}.${spec.name} ADD "${col.name}" double`);
    // verify reads a run back by its sessions: a storage-attached index keeps that a lookup, not a scan.
    await c.execute(`CREATE INDEX IF NOT EXISTS ${spec.name}_session ON ${t.keyspace}.${spec.name} ("session") USING 'sai'`);
  }
}

/**
 * Prepares the sink's INSERTs now, while connecting, so that the first rows need no
 * round trip first. The driver has no prepare-only call: an execute with named
 * parameters it cannot fill prepares the statement (mapping names needs the server's
 * metadata) and then stops with an ArgumentError, client-side, before anything is sent.
 */
async function prepare(c: cassandra.Client, inserts: readonly string[]): Promise<void> {
  await Promise.all(inserts.map((q) => c.execute(q, {}).catch((err: unknown) => {
    if (!(err instanceof cassandra.errors.ArgumentError)) throw err;
  })));
}

export interface SinkReport {
  readonly written: Record<WrittenTable, number>;
  readonly unwritten: number;
  readonly dropped: number;
  /** The file that keeps the unwritten rows, when there is one. */
  readonly keptIn?: string;
}

export class CassandraSink implements OutputSink {
  private client: cassandra.Client | undefined;
  private queue: Pending[] = [];
  private readonly store: PendingStore | undefined;
  private pumping: Promise<boolean> | undefined;
  private down = false;
  private nextTryMs = 0;
  private lastPumpMs = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The rows a pump under way took from the queue (not from the pending file). */
  private taken: Pending[] | undefined;
  /** Set when close gives up on a pump under way. */
  private abandoned = false;
  private readonly specs: Map<WrittenTable, { insert: string; partition: number[]; encode: (values: readonly unknown[]) => (Buffer | null)[]; params?: (row: Record<string, unknown>) => unknown[] }>;
  readonly written = Object.fromEntries([...SINK_TABLES, VIEW_TABLE].map((t) => [t, 0])) as Record<WrittenTable, number>;
  dropped = 0;
  /** The last connection or write failure, for the caller's message. */
  lastError: string | undefined;

  constructor(readonly target: CassandraTarget, private readonly config: EngineConfig, private readonly o: CassandraSinkOptions) {
    const cols = indicatorColumns(config);
    this.specs = new Map();
    for (const t of SINK_TABLES) {
      const s = tableSpec(target.keyspace, t, cols);
      const names = [...s.columns.map((c) => c.name), 'day'];
      this.specs.set(t, { insert: s.insert, partition: s.partition.map((p) => names.indexOf(p)), encode: cqlEncoder(s.types), params: s.params });
    }
    const v = viewSpec(target.keyspace);
    this.specs.set(VIEW_TABLE, { insert: v.insert, partition: [0], encode: cqlEncoder(v.types) });
    if (o.pendingFile !== undefined) {
      this.store = new PendingStore(o.pendingFile, this.maxQueue);
      const left = this.store.count();
      if (left > 0) o.say(`cassandra: ${left} rows an earlier run could not write wait in ${o.pendingFile}; writing them first`);
    }
  }

  private get maxQueue(): number {
    return this.o.maxQueue ?? 2_000_000;
  }

  /** Connects now: for a replay, an unreachable Cassandra is the user's to fix before it starts. */
  async open(): Promise<void> {
    this.client ??= await connectCassandra(this.target, indicatorColumns(this.config));
    // Rows gather from now (settle): a first pump at once would send the first few rows in requests of their own.
    this.lastPumpMs = Date.now();
  }

  emit<T extends TableName>(table: T, row: OutputTables[T][number]): void {
    if (!(SINK_TABLES as readonly string[]).includes(table)) return;
    this.push(table as SinkTable, this.specs.get(table as SinkTable)!.params!(row as unknown as Record<string, unknown>));
    if (table === 'candles') for (const v of viewRows(row as CandleRow)) this.push(VIEW_TABLE, v);
  }

  private push(table: WrittenTable, params: unknown[]): void {
    if (this.queue.length >= this.maxQueue) {
      if (this.store) this.spill();
      else {
        this.queue.shift();
        this.dropped++;
      }
    }
    const key = `${table}\u0000${this.specs.get(table)!.partition.map((i) => String(params[i])).join('\u0000')}`;
    this.queue.push({ table, key, params });
  }

  /** Rows not yet written, in memory and on disk. */
  pending(): number {
    return this.queue.length + (this.store?.count() ?? 0);
  }

  /** The rows in memory to disk, behind those already there (one transaction). */
  private spill(): void {
    this.store!.append(this.queue);
    this.queue = [];
  }

  /** Pumps in the background every `everyMs` (a recorder's rows arrive for hours). */
  start(everyMs = 200): void {
    this.timer = setInterval(() => void this.kick(), everyMs);
  }

  /** Starts a pump unless one runs or a failed one waits out its second; the running one's promise. */
  kick(): Promise<boolean> | undefined {
    // While Cassandra is away, what waits goes to disk at each kick (every 200 ms for a recorder).
    if (this.store && this.down && !this.pumping && this.queue.length > 0) this.spill();
    if (!this.pumping && this.pending() > 0 && Date.now() >= this.nextTryMs) {
      this.lastPumpMs = Date.now();
      this.pumping = this.pump().finally(() => (this.pumping = undefined));
    }
    return this.pumping;
  }

  /**
   * Between a replay's batches: writes run beside the engine, and the engine waits only
   * when more than `high` rows are queued (bounded memory, and back-pressure at --speed max).
   * Rows are let gather (5,000, or 1 s; the first since `open`) so that a pump sends few,
   * full batches per partition rather than a request per row: requests are most of what
   * the sink costs the replay's thread. (1,000 rows or 200 ms measured the same as 5,000 or
   * 1 s on the 4-hour demo, within the noise, once writes went out during the replay.)
   */
  async settle(high = 20_000): Promise<void> {
    if (this.queue.length >= 5_000 || Date.now() - this.lastPumpMs >= 1_000) this.kick();
    // A replay at --speed max never lets the event loop turn on its own: the driver's requests (written on
    // process.nextTick) and Cassandra's answers would wait until the replay ends. One turn per batch while a
    // pump runs sends and reads them beside the replay.
    if (this.pumping) await new Promise(setImmediate);
    while (this.queue.length > high && !this.down) await (this.kick() ?? new Promise((r) => setTimeout(r, 50)));
  }

  /** The run has made its last row: what is queued starts out now (a replay writes its own files meanwhile), not at `close`. */
  lastRow(): void {
    this.kick();
  }

  /**
   * Writes the oldest rows waiting (on disk first, then in memory; at most 20,000); false
   * when Cassandra could not be reached or refused a write.
   */
  private async pump(): Promise<boolean> {
    try {
      if (!this.client) await this.open();
    } catch (err) {
      return this.abandoned ? false : this.failed(err);
    }
    if (this.abandoned) return false;
    const c = this.client!;
    const fromDisk = this.store && this.store.count() > 0 ? this.store.peek(20_000) : undefined;
    const take = fromDisk ? fromDisk.rows as Pending[] : this.queue.splice(0, 20_000);
    if (!fromDisk) this.taken = take;
    const groups = new Map<string, Pending[]>();
    for (const p of take) {
      const g = groups.get(p.key);
      if (g) g.push(p);
      else groups.set(p.key, [p]);
    }
    const units: Pending[][] = [];
    const per = this.o.rowsPerBatch ?? 256;
    for (const g of groups.values()) for (let i = 0; i < g.length; i += per) units.push(g.slice(i, i + per));
    const failed: Pending[] = [];
    let error: unknown;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < units.length) {
        const u = units[next++]!;
        try {
          const spec = this.specs.get(u[0]!.table)!;
          const write = u.length === 1
            ? c.execute(spec.insert, spec.encode(u[0]!.params))
            : c.batch(u.map((p) => ({ query: spec.insert, params: spec.encode(p.params) })), { logged: false });
          await within(write, WRITE_TIMEOUT_MS, 'a write');
          for (const p of u) this.written[p.table]++;
        } catch (err) {
          error ??= err;
          failed.push(...u);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.maxInFlight ?? 16, units.length) }, worker));
    this.taken = undefined;
    // Given up on by close: the rows it took are back in the queue (or were never out of the file), and the file may be closed.
    if (this.abandoned) return false;
    if (fromDisk) this.store!.settle(fromDisk.lastId, failed);
    else if (failed.length > 0) this.queue.unshift(...failed);
    if (failed.length > 0) {
      // A fresh client next round: one that lived through a restart can keep waiting on dead connections.
      this.client = undefined;
      void c.shutdown().catch(() => {});
      return this.failed(error);
    }
    if (this.down) this.o.say(`cassandra: writing again; ${this.pending()} rows waiting`);
    this.down = false;
    return true;
  }

  /** Close gives up on the pump under way: the rows it took from memory count as unwritten again, and it touches nothing more. */
  private abandon(): void {
    this.abandoned = true;
    if (this.taken) this.queue.unshift(...this.taken);
    this.taken = undefined;
    const c = this.client;
    this.client = undefined;
    void c?.shutdown().catch(() => {});
  }

  private failed(err: unknown): boolean {
    this.lastError = reason(err);
    if (!this.down) this.o.say(`cassandra: cannot write (${this.lastError}); rows wait ${this.store ? `in ${this.store.file}` : 'in memory'} (${this.pending()})`);
    this.down = true;
    this.nextTryMs = Date.now() + 1_000;
    return false;
  }

  /**
   * Writes what is queued while the stop waits (StopWait: `deadlineMs` at most; with
   * `stallMs`, no longer than that without a row written; not at all once `hurry` aborts);
   * then closes and says what is left. A write given up on goes on unawaited and touches
   * nothing: its rows are counted unwritten (and kept, with a pending file).
   */
  async close(deadlineMs = 30_000, o: { stallMs?: number; hurry?: AbortSignal } = {}): Promise<SinkReport> {
    clearInterval(this.timer);
    const taken = (): number => Object.values(this.written).reduce((a, b) => a + b, 0);
    const wait = new StopWait(taken, { maxMs: deadlineMs, stallMs: o.stallMs ?? deadlineMs, ...(o.hurry ? { hurry: o.hurry } : {}) });
    if (this.pending() > 0 && o.stallMs !== undefined) {
      this.o.say(`stopping: writing ${this.pending()} rows to Cassandra (up to ${deadlineMs / 1000} s while it takes them, ${o.stallMs / 1000} s if it takes none; Ctrl-C to stop waiting: they stay in ${this.store?.file ?? 'the run\'s outputs'})`);
    }
    let gaveUp = false;
    for (;;) {
      const running = this.pumping ?? (this.pending() > 0 && wait.left() > 0 ? this.pump() : undefined);
      if (running === undefined) break;
      const r = await wait.wait(running);
      if (r === undefined) {
        gaveUp = true;
        break;
      }
      if (!r.value) await wait.sleep(500);
    }
    if (gaveUp) this.abandon();
    else await within(this.client?.shutdown() ?? Promise.resolve(), 5_000, 'closing').catch(() => {});
    const store = this.store;
    if (store) this.spill();
    const dropped = this.dropped + (store?.dropped ?? 0);
    if (dropped > 0) this.o.say(`cassandra: ${dropped} rows were dropped while Cassandra was away (the queue holds ${this.maxQueue})`);
    const report = { written: { ...this.written }, unwritten: this.pending(), dropped, ...(store && store.count() > 0 ? { keptIn: store.file } : {}) };
    store?.close();
    return report;
  }
}

/**
 * A run's tables read back from Cassandra: the rows of the manifest's sessions (and, for
 * candles and indicators, its windows), digested exactly as the manifest's tables were.
 */
export async function readBack(t: CassandraTarget, m: Manifest): Promise<Record<SinkTable, { rows: number; sha256: string }>> {
  const cols = indicatorColumns(m.engine);
  const c = await connect(t);
  try {
    const have = await c.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [t.keyspace]);
    const names = new Set(have.rows.map((r) => String(r.table_name)));
    const missing = SINK_TABLES.filter((x) => !names.has(x));
    if (missing.length > 0) throw new CassandraError(`keyspace ${t.keyspace} at ${t.hosts.join(',')} has no ${missing.join(', ')} table${missing.length > 1 ? 's' : ''}: nothing was written there with --sink`);
    const windows = new Set(m.engine.intervalsMs.map(intervalName));
    const out = {} as Record<SinkTable, { rows: number; sha256: string }>;
    for (const table of SINK_TABLES) {
      const { columns } = tableSpec(t.keyspace, table, cols);
      const rows: Record<string, unknown>[] = [];
      for (const session of m.sessions) {
        const rs = await c.execute(`SELECT * FROM ${t.keyspace}.${table} WHERE "session" = ?`, [session], { fetchSize: 5_000 });
        for await (const r of rs) {
          if (table !== 'arbitrage' && !windows.has(String(r.interval))) continue;
          rows.push(rowFromCassandra(columns, (n) => r.get(n)));
        }
      }
      const sorted = canonicalRows(table, rows);
      out[table] = { rows: sorted.length, sha256: digestRows(sorted, columns) };
    }
    return out;
  } finally {
    await c.shutdown().catch(() => {});
  }
}
