/**
 * Cassandra for real, against a real Apache Cassandra node (see node.ts): a replay of the
 * golden session lands tables whose read-back digests equal the manifest's, and a second
 * replay changes nothing; verify --sink fails when a row differs; a CQL query for the last
 * hour of one market's 1m candles returns them in order, across a day boundary; a recording
 * with Cassandra stopped for 20 s mid-session ends with every row present once; what a
 * recording could not write stays on disk, and the next recording into its folder writes it.
 */
import path from 'node:path';
import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { generateArchive } from '../../src/cli/demo.ts';
import type { CandleRow } from '../../src/engine/rows.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import { connectCassandra, readBack } from '../../src/storage/cassandra.ts';
import { SINK_TABLES, VIEW_TABLE, parseCassandraUrl, tableSpec, utcDay, viewRows, viewSpec } from '../../src/storage/cassandra-schema.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { indicatorColumns, readManifest } from '../../src/storage/run.ts';
import { GOLDEN_SESSION } from '../golden/golden.ts';
import { runCli, sleep, startCli, tmpDir } from '../helpers.ts';
import { SKIP_CASSANDRA, startCassandra, type CassandraNode } from './node.ts';

describe('cassandra:// URLs', () => {
  it('reads hosts, keyspace and options, and names what is wrong in one line', () => {
    expect(parseCassandraUrl('cassandra://127.0.0.1:19042,10.0.0.2/Ticks?dc=dc1&rf=3')).toEqual({
      hosts: ['127.0.0.1:19042', '10.0.0.2:9042'], keyspace: 'ticks', localDataCenter: 'dc1', replication: 3,
    });
    expect(() => parseCassandraUrl('cassandra://127.0.0.1:9042')).toThrow(/bad Cassandra sink .*use cassandra:\/\/host:port\/keyspace/);
    expect(() => parseCassandraUrl('cassandra://127.0.0.1:99999/ks')).toThrow(/bad Cassandra host "127\.0\.0\.1:99999"/);
    expect(() => parseCassandraUrl('cassandra://h/1ks')).toThrow(/bad Cassandra keyspace "1ks"/);
    expect(() => parseCassandraUrl('cassandra://h/ks?consistency=all')).toThrow(/unknown Cassandra sink option "consistency"/);
  });

  it('turns a bad --sink and an unreachable Cassandra into one line and exit 2', () => {
    const out = path.join(tmpDir(), 'o');
    for (const [sink, line] of [
      ['mysql://127.0.0.1/x', /^tapedeck: unknown --sink "mysql:\/\/127\.0\.0\.1\/x"/],
      ['cassandra://127.0.0.1:9042/bad-name', /^tapedeck: bad Cassandra keyspace "bad-name"/],
      ['cassandra://127.0.0.1:1/ks', /^tapedeck: cannot reach Cassandra at 127\.0\.0\.1:1 \(connect ECONNREFUSED/],
    ] as const) {
      const r = runCli(['replay', '--from', GOLDEN_SESSION, '--out', out, '--sink', sink]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n'), 'one line, no stack trace').toHaveLength(1);
      expect(r.stderr.trim()).toMatch(line);
    }
    const r = runCli(['record', '--out', out, '--duration', '1s', '--sink', 'cassandra://x']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tapedeck: bad Cassandra sink "cassandra:\/\/x"/);
  });
});

describe.skipIf(SKIP_CASSANDRA)('Cassandra', () => {
  let node: CassandraNode;
  let sim: Simulator;
  let db: cassandra.Client;
  const dir = tmpDir();

  beforeAll(async () => {
    node = startCassandra();
    console.log(`Cassandra: Apache Cassandra ${node.version} at ${node.hosts}`);
    db = await connectDb();
    sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 23, meanGapMs: 120 });
  }, 600_000);

  afterAll(async () => {
    await db?.shutdown();
    await sim?.close();
    node?.down();
  });

  async function connectDb(): Promise<cassandra.Client> {
    const c = new cassandra.Client({ contactPoints: [node.hosts], localDataCenter: 'datacenter1', encoding: { useBigIntAsLong: true } });
    await c.connect();
    return c;
  }

  /** Every row of a table, every column, as text: what "the table's state" means here. */
  async function snapshot(ks: string, table: string): Promise<string[]> {
    const rows: string[] = [];
    for await (const r of await db.execute(`SELECT * FROM ${ks}.${table}`, [], { fetchSize: 1_000 })) {
      rows.push(JSON.stringify(r.keys().map((k) => [k, r.get(k)]), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
    }
    return rows.sort();
  }

  const TABLES = ['candles', 'indicators', 'arbitrage', 'trademsgs1minutewindow'];

  it('replays the golden session into Cassandra: read-back digests equal the manifest\'s; a second replay changes nothing', async () => {
    const url = node.url('golden');
    const first = runCli(['replay', '--from', GOLDEN_SESSION, '--windows', '10s,1m', '--out', path.join(dir, 'g1'), '--sink', url]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/cassandra: \d+ rows written to keyspace golden at .* \(candles 84, indicators 84, arbitrage 0, trademsgs1minutewindow \d+\)/);
    const manifest = readManifest(path.join(dir, 'g1'));
    const back = await readBack(parseCassandraUrl(url), manifest);
    for (const t of ['candles', 'indicators', 'arbitrage'] as const) {
      expect(back[t], `${t} read back from Cassandra`).toEqual({ rows: manifest.tables[t]!.rows, sha256: manifest.tables[t]!.sha256 });
    }
    expect(back.candles.rows, 'the golden session has candles to compare').toBeGreaterThan(20);
    const verified = runCli(['verify', '--live', path.join(dir, 'g1'), '--sink', url]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^identical: Cassandra keyspace golden holds the run's candles, indicators, arbitrage exactly$/m);

    // The seeds' view, derived from the 1m candles exactly as the sink derives it.
    const candles = (await readParquet(path.join(dir, 'g1', 'candles.parquet'))) as unknown as CandleRow[];
    const view = await db.execute('SELECT date, window_start, market, direction, fromcoin, tocurrency, avgprice, totalquantity, totalvol, counttxns FROM golden.trademsgs1minutewindow');
    const got = view.rows.map((r) => [r.date.toString(), BigInt(r.window_start.getTime()), r.market, r.direction, r.fromcoin, r.tocurrency, r.avgprice, r.totalquantity, r.totalvol, r.counttxns].join('|')).sort();
    const want = candles.flatMap(viewRows).map((v) => [v[0], v[1], ...v.slice(3, 11)].join('|')).sort();
    expect(want.length, 'three directions (ALL, BUY, SELL) per 1m candle').toBe(candles.filter((c) => c.interval === '1m').length * 3);
    expect(got).toEqual(want);

    const before = await Promise.all(TABLES.map((t) => snapshot('golden', t)));
    const second = runCli(['replay', '--from', GOLDEN_SESSION, '--windows', '10s,1m', '--out', path.join(dir, 'g2'), '--sink', url]);
    expect(second.code, second.stderr).toBe(0);
    expect(await Promise.all(TABLES.map((t) => snapshot('golden', t))), 'replaying again leaves every table as it was').toEqual(before);
  }, 180_000);

  it('connects ready to write: token-aware routing knows the keyspace, the INSERTs are prepared, and preparing wrote nothing', async () => {
    // The driver reads only the sink's keyspace into its metadata (not every keyspace's): routing by token needs that one.
    const cols = indicatorColumns(DEFAULT_CONFIG);
    const inserts = [...SINK_TABLES.map((t) => tableSpec('routing', t, cols).insert), viewSpec('routing').insert];
    for (const run of ['the first connect, which creates the tables', 'a later one, which finds them']) {
      const c = await connectCassandra(parseCassandraUrl(node.url('routing')), cols);
      try {
        expect(c.getReplicas('routing', Buffer.from('binance'))?.map((h) => h.address), run).toEqual([node.hosts]);
        expect(Object.keys(c.metadata.keyspaces), run).toEqual(['routing']);
        // The driver's cache of prepared statements has no public view: its internal lookup, by keyspace (none) and query.
        const prepared = c.metadata as unknown as { getPreparedInfo(ks: undefined, q: string): { queryId?: Buffer } };
        for (const q of inserts) expect(prepared.getPreparedInfo(undefined, q).queryId, `${run}: ${q}`).toBeInstanceOf(Buffer);
      } finally {
        await c.shutdown();
      }
    }
    for (const t of [...SINK_TABLES, VIEW_TABLE]) expect(Number((await db.execute(`SELECT count(*) AS n FROM routing.${t}`)).rows[0]!.n), t).toBe(0);
  }, 60_000);

  it('verify --sink fails, naming the table, when Cassandra holds a different row', async () => {
    const url = node.url('tampered');
    expect(runCli(['replay', '--from', GOLDEN_SESSION, '--windows', '10s,1m', '--out', path.join(dir, 't'), '--sink', url]).code).toBe(0);
    const one = (await db.execute('SELECT exchange, symbol, interval, day, window_start, close FROM tampered.candles LIMIT 1')).rows[0]!;
    await db.execute('UPDATE tampered.candles SET close = ? WHERE exchange = ? AND symbol = ? AND interval = ? AND day = ? AND window_start = ?',
      [one.close + 0.01, one.exchange, one.symbol, one.interval, one.day, one.window_start], { prepare: true });
    const r = runCli(['verify', '--live', path.join(dir, 't'), '--sink', url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^DIFF {2}candles {8}84 rows/m);
    expect(r.stdout).toMatch(/^same {2}indicators/m);
    expect(r.stderr.trim()).toMatch(/^tapedeck: verification failed: Cassandra keyspace tampered differs from .* in candles \(84 rows in Cassandra, 84 in the manifest\)$/);
    const missing = runCli(['verify', '--live', path.join(dir, 't'), '--sink', node.url('nothing_here')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^tapedeck: keyspace nothing_here at .* has no candles, indicators, arbitrage tables/);
  }, 120_000);

  it('answers the last hour of one market\'s 1m candles in order, across a day boundary', async () => {
    const raw = path.join(dir, 'h70');
    generateArchive({ minutes: 70, seed: 5, out: raw, startMs: Date.UTC(2024, 7, 9, 23, 20), faults: false });
    const r = runCli(['replay', '--from', raw, '--windows', '1m', '--out', path.join(dir, 'h70-out'), '--sink', node.url('hour')]);
    expect(r.code, r.stderr).toBe(0);
    const candles = (await readParquet(path.join(dir, 'h70-out', 'candles.parquet'))) as unknown as CandleRow[];
    const market = candles.filter((c) => c.exchange === 'coinbase' && c.symbol === 'BTC-USD');
    const endMs = market.at(-1)!.window_start + 60_000n;
    const fromMs = endMs - 3_600_000n;
    // One query per day partition, days in order: the clustering order gives each day's in order.
    const got: bigint[] = [];
    for (const day of [...new Set([utcDay(fromMs), utcDay(endMs - 1n)])]) {
      const rs = await db.execute(
        'SELECT window_start, close FROM hour.candles WHERE exchange = ? AND symbol = ? AND interval = ? AND day = ? AND window_start >= ? AND window_start < ?',
        ['coinbase', 'BTC-USD', '1m', day, fromMs, endMs], { prepare: true });
      got.push(...rs.rows.map((x) => x.window_start as bigint));
    }
    const want = market.filter((c) => c.window_start >= fromMs && c.window_start < endMs).map((c) => c.window_start);
    expect(utcDay(fromMs), 'the hour spans two days').not.toBe(utcDay(endMs - 1n));
    expect(want.length, 'an hour of 1m candles').toBe(60);
    expect(got).toEqual(want);
  }, 180_000);

  it('keeps recording while Cassandra is down for 20 s, then writes every row, once', async () => {
    if (!node.managed) {
      console.log('the restart test needs a node that test/cassandra/cassandra.sh manages; CASSANDRA_HOSTS points elsewhere');
      return;
    }
    const d = tmpDir();
    const url = node.url('live');
    const rec = startCli(['record', '--out', d, '--duration', '40s', '--windows', '1s,10s', '--metrics-port', '0', '--sink', url,
      '--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`]);
    await rec.waitFor(/recording binance, coinbase/);
    await sleep(6_000);
    node.stop();
    await sleep(20_000);
    node.start();
    expect(await rec.exited, rec.stderr).toBe(0);
    expect(rec.stderr).toMatch(/cassandra: cannot write/);
    expect(rec.stderr).toMatch(/cassandra: writing again/);
    expect(rec.stdout).not.toMatch(/NOT written/);
    // This test's own client lived through the restart too: a fresh one, not its reconnection backoff.
    await db.shutdown();
    db = await connectDb();
    const outDir = rec.stdout.match(/live outputs → (\S+):/)![1]!;
    const manifest = readManifest(outDir);
    expect(manifest.tables.candles!.rows, 'candles closed while Cassandra was down').toBeGreaterThan(40);
    const verified = runCli(['verify', '--live', outDir, '--sink', url]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const count = async (t: string): Promise<number> => {
      const rs = await db.execute(`SELECT count(*) AS n FROM live.${t} WHERE "session" = ?`, [manifest.sessions[0]], { prepare: true });
      return Number(rs.rows[0]!.n);
    };
    expect(await count('candles'), 'every candle once').toBe(manifest.tables.candles!.rows);
    expect(await count('indicators'), 'every indicator row once').toBe(manifest.tables.indicators!.rows);
    expect(await count('arbitrage'), 'every arbitrage row once').toBe(manifest.tables.arbitrage!.rows);
  }, 240_000);

  it('says what a recording could not write, keeps it on disk, and the next record into the folder writes it', async () => {
    const d = tmpDir();
    const args = ['--windows', '1s,10s', '--metrics-port', '0', '--endpoint', `binance=${sim.wsUrl('binance')}`, '--endpoint', `coinbase=${sim.wsUrl('coinbase')}`];
    // Nothing listens on port 1: Cassandra is away for the whole first recording.
    const first = startCli(['record', '--out', d, '--duration', '8s', '--sink', 'cassandra://127.0.0.1:1/later', ...args]);
    expect(await first.exited, first.stderr).toBe(0);
    const file = path.join(d, 'cassandra', 'later.pending.sqlite');
    const notWritten = first.stdout.match(/^cassandra: (\d+) rows NOT written \(.*\); kept in (\S+), the next record --out /m);
    expect(notWritten, first.stdout).not.toBeNull();
    expect(notWritten![2]).toBe(file);
    const kept = Number(notWritten![1]);
    expect(kept, 'the first recording closed windows').toBeGreaterThan(20);
    const firstOut = first.stdout.match(/live outputs → (\S+):/)![1]!;

    // Other windows for the second: a market's window is one row, so the second recording's
    // first windows would otherwise take over the first's last ones (its `end` candles).
    const second = startCli(['record', '--out', d, '--duration', '3s', '--sink', node.url('later'), ...args.slice(2), '--windows', '5s']);
    expect(await second.exited, second.stderr).toBe(0);
    expect(second.stderr).toContain(`cassandra: ${kept} rows an earlier run could not write wait in ${file}; writing them first`);
    expect(second.stdout).not.toMatch(/NOT written/);
    const verified = runCli(['verify', '--live', firstOut, '--sink', node.url('later')]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  }, 120_000);
});
