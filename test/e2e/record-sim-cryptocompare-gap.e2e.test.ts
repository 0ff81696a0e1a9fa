/**
 * A CryptoCompare outage longer than the 20 trades a subscribe replays, recorded from the
 * simulator through the CLI (the simulator speaks the published spec: no real capture
 * exists): each market trades about 23 times a second, so the 4 s the recorder is refused
 * (after `500 FORCE_DISCONNECT` and a close) lose trades the new subscription does not
 * replay. On the markets that send `CCSEQ` (Coinbase, Kraken) that is a `ccseq` gap naming
 * exactly the missing sequence numbers; Bitstamp's sends none, so it shows no gap. No REST
 * can refill it: the windows it touches are flagged `gap`. Replay and verify give the live
 * run's digests.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../replayer/simulator/server.ts';
import { ccSeq } from '../../src/exchanges/cryptocompare/wire.ts';
import { makeDecoder } from '../../src/exchanges/registry.ts';
import type { Trade } from '../../src/market/events.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { readManifest } from '../../src/storage/run.ts';
import { readArchiveEvents, tmpDir } from '../helpers.ts';
import { expectReplayIdentical, recordThroughOutage } from './record-helpers.ts';

describe('record cryptocompare from the simulator: an outage past the replayed trades is a CCSEQ gap', () => {
  let sim: Simulator;
  const dir = tmpDir('tapedeck-simcc-');
  let outDir = '';

  beforeAll(async () => {
    ({ sim, outDir } = await recordThroughOutage({
      exchanges: ['cryptocompare'], seed: 8, meanGapMs: 15, symbols: 'BTC-USD', out: dir, duration: '14s', env: { CRYPTOCOMPARE_API_KEY: 'gap-test' }, afterMs: 3_000, refuseMs: 4_000,
    }));
  }, 60_000);

  afterAll(async () => {
    await sim.close();
  });

  it('a gap of exactly the CCSEQ numbers of the trades missed, on the markets that send CCSEQ only; the windows it touches flagged', async () => {
    const gaps = await readParquet(path.join(outDir, 'gaps.parquet'));
    expect(new Set(gaps.map((g) => `${String(g.exchange)} ${String(g.reason)}`))).toEqual(new Set(['cryptocompare:Coinbase ccseq', 'cryptocompare:Kraken ccseq']));
    // What the recorder took, read back from its archive.
    const decoder = makeDecoder('cryptocompare')!;
    const taken = (await readArchiveEvents(path.join(dir, 'raw'))).flatMap((ev) => decoder.decode(ev)).filter((m): m is Trade => m.type === 'trade');
    const candles = await readParquet(path.join(outDir, 'candles.parquet'));
    for (const market of ['Coinbase', 'Kraken']) {
      const symbol = `${market}~BTC~USD`;
      const ids = taken.filter((t) => t.symbol === symbol).map((t) => Number(t.tradeId));
      const [lo, hi] = [Math.min(...ids), Math.max(...ids)];
      const inGaps = gaps.filter((g) => g.symbol === symbol).flatMap((g) => Array.from({ length: Number(g.missing) }, (_, i) => Number(g.from_id) + i));
      expect(inGaps.length, `${symbol}: more than a replay's 20 trades lost`).toBeGreaterThan(20);
      // From the first trade taken to the last, each trade the simulator made was taken, or its CCSEQ is in a gap: never both.
      const made = sim.trades('cryptocompare').filter((t) => t.symbol === symbol && t.tradeId >= lo && t.tradeId <= hi).map((t) => t.tradeId);
      const missed = made.filter((id) => !ids.includes(id));
      expect(new Set(ids).size, `${symbol}: no trade taken twice`).toBe(ids.length);
      expect(inGaps.sort((a, b) => a - b), symbol).toEqual(missed.map(ccSeq));
      expect(candles.some((c) => c.symbol === symbol && String(c.flags).split(',').includes('gap')), `${symbol}: windows flagged gap`).toBe(true);
    }
    expect(readManifest(outDir).stats.decode.cryptocompare!.errors).toBe(0);
  });

  it('replays to the same digests, and verify says identical', () => {
    expectReplayIdentical(dir, outDir, '1s,10s');
  });
});
