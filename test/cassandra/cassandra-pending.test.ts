/**
 * Rows the Cassandra sink could not write yet wait on disk (src/storage/cassandra-pending.ts):
 * the store is a bounded FIFO that survives reopening (a property test against an array);
 * a sink whose Cassandra cannot be reached keeps every row of a replay there, says where,
 * and drops only beyond its bound, counting them; and a later sink on the same file writes
 * them to a real node, which then holds exactly the run's tables.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../../replayer/replay.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import type { OutputTables } from '../../src/engine/rows.ts';
import { CassandraSink, readBack } from '../../src/storage/cassandra.ts';
import { PendingStore, type PendingRow } from '../../src/storage/cassandra-pending.ts';
import { parseCassandraUrl } from '../../src/storage/cassandra-schema.ts';
import { GOLDEN_SESSION } from '../golden/golden.ts';
import { tmpDir } from '../helpers.ts';
import { SKIP_CASSANDRA, startCassandra, type CassandraNode } from './node.ts';

const CONFIG = { ...DEFAULT_CONFIG, intervalsMs: [10_000, 60_000] };
const UNREACHABLE = parseCassandraUrl('cassandra://127.0.0.1:1/nowhere');

describe('the pending store', () => {
  it('is a FIFO bounded by dropping its oldest rows, and the same after reopening', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('write' as const), n: fc.integer({ min: 1, max: 6 }), fail: fc.array(fc.boolean(), { maxLength: 6 }) }),
      fc.record({ kind: fc.constant('reopen' as const) }),
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 25 }), (max, ops) => {
      const file = path.join(tmpDir(), 'p.sqlite');
      let store = new PendingStore(file, max);
      let model: PendingRow[] = [];
      let dropped = 0;
      let next = 0;
      const row = (): PendingRow => ({ table: 'candles', key: `k${next % 3}`, params: [`s${next}`, BigInt(next++) * 10n ** 12n, 0.5, null, true] });
      for (const o of ops) {
        if (o.kind === 'append') {
          const rows = Array.from({ length: o.n }, row);
          store.append(rows);
          model.push(...rows);
          const over = Math.max(0, model.length - max);
          model = model.slice(over);
          dropped += over;
        } else if (o.kind === 'write') {
          const { rows, lastId } = store.peek(o.n);
          expect(rows, 'the oldest rows first').toEqual(model.slice(0, o.n));
          const failed = rows.filter((_, i) => o.fail[i]);
          store.settle(lastId, failed);
          model = [...model.slice(rows.length), ...failed];
        } else {
          store.close();
          store = new PendingStore(file, max);
          dropped = 0;
        }
        expect(store.count()).toBe(model.length);
        expect(store.dropped).toBe(dropped);
      }
      expect(store.peek(1_000).rows, 'what is left, in order').toEqual(model);
      store.close();
    }), { numRuns: 60 });
  });
});

describe('a sink that cannot reach Cassandra', () => {
  let tables: OutputTables;
  beforeAll(async () => {
    tables = (await replay({ from: GOLDEN_SESSION, out: path.join(tmpDir(), 'g'), speed: 'max', config: CONFIG })).tables;
  }, 60_000);

  const emitAll = (sink: CassandraSink): number => {
    for (const t of ['candles', 'indicators', 'arbitrage'] as const) for (const r of tables[t]) sink.emit(t, r as never);
    return sink.pending();
  };

  it('keeps every row on disk, says where, and a new sink on the file finds them', async () => {
    const file = path.join(tmpDir(), 'cassandra', 'nowhere.pending.sqlite');
    const said: string[] = [];
    const sink = new CassandraSink(UNREACHABLE, CONFIG, { say: (l) => said.push(l), pendingFile: file });
    const rows = emitAll(sink);
    expect(rows, 'candles, indicators and the seeds\' view').toBeGreaterThan(100);
    const r = await sink.close(1_500);
    expect(r).toMatchObject({ unwritten: rows, dropped: 0, keptIn: file });
    expect(said.join('\n')).toMatch(new RegExp(`^cassandra: cannot write \\(.*\\); rows wait in ${file.replace(/[.]/g, '\\.')} \\(\\d+\\)$`, 'm'));
    const again: string[] = [];
    const next = new CassandraSink(UNREACHABLE, CONFIG, { say: (l) => again.push(l), pendingFile: file });
    expect(next.pending()).toBe(rows);
    expect(again).toEqual([`cassandra: ${rows} rows an earlier run could not write wait in ${file}; writing them first`]);
    expect((await next.close(0)).unwritten).toBe(rows);
  }, 60_000);

  it('drops only beyond its bound, the oldest first, and counts them', async () => {
    const file = path.join(tmpDir(), 'small.sqlite');
    const said: string[] = [];
    const sink = new CassandraSink(UNREACHABLE, CONFIG, { say: (l) => said.push(l), pendingFile: file, maxQueue: 50 });
    const offered = tables.candles.length + tables.indicators.length + tables.arbitrage.length + tables.candles.filter((c) => c.interval === '1m').length * 3;
    emitAll(sink);
    const r = await sink.close(0);
    expect(r.unwritten + r.dropped, 'every row is either kept or counted').toBe(offered);
    expect(r.unwritten).toBeLessThanOrEqual(50);
    expect(said.at(-1)).toBe(`cassandra: ${r.dropped} rows were dropped while Cassandra was away (the queue holds 50)`);
  }, 60_000);
});

describe.skipIf(SKIP_CASSANDRA)('rows kept on disk, then Cassandra', () => {
  let node: CassandraNode;
  beforeAll(() => {
    node = startCassandra();
  }, 600_000);
  afterAll(() => node?.down());

  it('are written by the next sink on the file: the node then holds the run\'s tables exactly', async () => {
    const out = path.join(tmpDir(), 'g');
    const run = await replay({ from: GOLDEN_SESSION, out, speed: 'max', config: CONFIG });
    const file = path.join(tmpDir(), 'kept.sqlite');
    const down = new CassandraSink(UNREACHABLE, CONFIG, { say: () => {}, pendingFile: file });
    for (const t of ['candles', 'indicators', 'arbitrage'] as const) for (const r of run.tables[t]) down.emit(t, r as never);
    const kept = (await down.close(0)).unwritten;
    const target = parseCassandraUrl(node.url('kept'));
    const up = new CassandraSink(target, CONFIG, { say: () => {}, pendingFile: file });
    up.start(50);
    const r = await up.close();
    expect(r.unwritten).toBe(0);
    expect(Object.values(r.written).reduce((a, b) => a + b, 0), 'every kept row written').toBe(kept);
    const back = await readBack(target, run.manifest);
    for (const t of ['candles', 'indicators', 'arbitrage'] as const) {
      expect(back[t], `${t} read back`).toEqual({ rows: run.manifest.tables[t]!.rows, sha256: run.manifest.tables[t]!.sha256 });
    }
    expect(new PendingStore(file).count(), 'nothing left on disk').toBe(0);
    expect(fs.existsSync(file)).toBe(true);
  }, 180_000);
});
