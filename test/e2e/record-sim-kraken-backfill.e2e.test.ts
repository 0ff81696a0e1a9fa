/**
 * A Kraken outage longer than its trade snapshot covers, recorded from the simulator through
 * the CLI: BTC/USD trades about 23 times a second and the simulator's snapshot holds 50, so
 * the 4 s the recorder is refused (after Kraken's maintenance status and close) leave a gap
 * the new connection's snapshot does not reach. The recorder backfills it over REST
 * `Trades?since=` from the time of the last trade before it; no backfill fails; every complete
 * candle equals the simulator's own trade log; replay and verify give the live run's digests.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../replayer/simulator/server.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { readArchiveEvents, tmpDir } from '../helpers.ts';
import { expectCandlesOfTrades, expectReplayIdentical, recordThroughOutage } from './record-helpers.ts';

const SYMBOL = 'BTC/USD';

describe('record kraken from the simulator: an outage past the trade snapshot is backfilled over REST', () => {
  let sim: Simulator;
  const dir = tmpDir('tapedeck-simkraken-');
  let outDir = '';
  let events: LogEvent[] = [];

  beforeAll(async () => {
    ({ sim, outDir } = await recordThroughOutage({ exchanges: ['kraken'], seed: 5, meanGapMs: 15, symbols: 'BTC-USD', out: dir, duration: '14s', afterMs: 3_000, refuseMs: 4_000 }));
    events = await readArchiveEvents(path.join(dir, 'raw'));
  }, 60_000);

  afterAll(async () => {
    await sim.close();
  });

  it('saw a gap wider than the snapshot, and filled it from REST pages by time, none failed', async () => {
    const gaps = (await readParquet(path.join(outDir, 'gaps.parquet'))).filter((g) => g.symbol === SYMBOL);
    // The new connection's snapshot reaches back 50 trades: what it does not is a gap.
    expect(gaps.length, 'the outage shows in the ids past the snapshot').toBeGreaterThan(0);
    const snapshots = events.filter((e) => e.kind === 'frame' && e.payload.startsWith('{"channel":"trade","type":"snapshot"'));
    expect(snapshots).toHaveLength(2);
    const rest = events.filter((e) => e.kind === 'rest');
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.every((e) => /\/kraken\/0\/public\/Trades\?pair=BTCUSD&since=\d{19}&count=1000$/.test(e.meta)), rest.map((e) => e.meta).join('\n')).toBe(true);
    expect(events.some((e) => e.kind === 'gap' && e.payload.includes('"failed"')), 'no backfill failed').toBe(false);
    // The gap's first id is not in the second snapshot: only REST could give it.
    const firstMissing = BigInt(gaps[0]!.from_id as bigint);
    expect(snapshots[1]!.payload).not.toContain(`"trade_id":${firstMissing},`);
    expect(rest.some((e) => e.payload.includes(`,${firstMissing}]`))).toBe(true);
  });

  it('complete candles equal the simulator\'s own trade log, the outage included', async () => {
    const candles = (await readParquet(path.join(outDir, 'candles.parquet'))).filter((c) => c.exchange === 'kraken' && c.symbol === SYMBOL && c.complete === true);
    expect(candles.length).toBeGreaterThan(10);
    expectCandlesOfTrades(candles, sim.trades('kraken').filter((t) => t.symbol === SYMBOL));
    expect(await readParquet(path.join(outDir, 'decode_errors.parquet'))).toEqual([]);
  });

  it('replays to the same digests, and verify says identical', () => {
    expectReplayIdentical(dir, outDir, '1s,10s');
  });
});
