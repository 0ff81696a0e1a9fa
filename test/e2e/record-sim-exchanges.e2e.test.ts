/**
 * The recorder end to end against the simulator speaking all five exchanges it knows
 * (Binance, Coinbase, Bitstamp v2, Kraken v2, CryptoCompare streamer v2 with three markets on
 * its one socket), through the CLI a user runs: 35 s of BTC and ETH with a forced disconnect
 * on each exchange, each of a different kind (a close frame, a dead TCP socket, Bitstamp's
 * `bts:request_reconnect`, Kraken's maintenance status and close, CryptoCompare's
 * `500 FORCE_DISCONNECT`), and each followed by 1.5 s of refused connections, so that trades are made while
 * the recorder is away. The recorder reconnects to each and subscribes again; every
 * simulated frame decodes; what the outage missed comes back the exchange's own way
 * (Binance and Coinbase: REST by trade id; Bitstamp: the `transactions` page; Kraken: the
 * trade snapshot on the new connection; CryptoCompare: the 20 trades each subscribe replays,
 * the repeats among them dropped), so every complete candle equals the simulator's own
 * trade log; and replay and verify give the live run's digests (identical).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../replayer/simulator/server.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { readParquet } from '../../src/storage/parquet.ts';
import { readManifest } from '../../src/storage/run.ts';
import { readArchiveEvents, sleep, tmpDir } from '../helpers.ts';
import fs from 'node:fs';
import { expectCandlesOfTrades, expectReplayIdentical, recordFromSimulator } from './record-helpers.ts';

const EXCHANGES = ['binance', 'coinbase', 'bitstamp', 'kraken', 'cryptocompare'] as const;
type X = (typeof EXCHANGES)[number];
/** How each exchange's connections are cut (hooks.ts `disconnect` modes). */
const MODES: Record<X, 'close' | 'terminate' | 'shutdown'> = { binance: 'close', coinbase: 'terminate', bitstamp: 'shutdown', kraken: 'shutdown', cryptocompare: 'shutdown' };
/** A key no one else would write: found anywhere the recorder wrote, it leaked. */
const API_KEY = 'cc-test-key-7f3a9d2e51b04c68';
/** The venue an output row belongs to: `cryptocompare:Kraken` is CryptoCompare's. */
const exchangeOf = (venue: unknown): string => String(venue).split(':')[0]!;

describe('record all five exchanges from the simulator → replay → verify', () => {
  let sim: Simulator;
  const dir = tmpDir('tapedeck-sim4-');
  let outDir = '';
  let events: LogEvent[] = [];
  let said = '';

  beforeAll(async () => {
    const started = await recordFromSimulator({ exchanges: EXCHANGES, seed: 11, meanGapMs: 120, symbols: 'BTC-USD,ETH-USD', out: dir, duration: '35s', env: { CRYPTOCOMPARE_API_KEY: API_KEY } });
    sim = started.sim;
    const rec = started.rec;
    await sleep(5_000);
    for (const x of EXCHANGES) {
      sim.control({ action: 'refuse', exchange: x, ms: 1_500 });
      sim.control({ action: 'disconnect', exchange: x, mode: MODES[x] });
      await sleep(4_500);
    }
    expect(await rec.exited, rec.stderr).toBe(0);
    said = rec.stdout + rec.stderr;
    outDir = /live outputs → (\S+):/.exec(rec.stdout)![1]!;
    events = await readArchiveEvents(path.join(dir, 'raw'));
  }, 90_000);

  afterAll(async () => {
    await sim.close();
  });

  it.each(EXCHANGES)('%s: reconnected after the forced disconnect, subscribed again, and the frames kept coming', (x) => {
    const mine = events.filter((e) => e.exchange === x && e.conn !== 'rest');
    const opens = mine.filter((e) => e.kind === 'open');
    expect(opens.length, 'a second connection opened').toBe(2);
    const [first, second] = opens.map((e) => e.conn);
    expect(mine.filter((e) => e.kind === 'close' && e.conn === first), 'the first one closed').toHaveLength(1);
    expect(mine.some((e) => e.kind === 'error' && e.payload === 'HTTP 503'), 'while refused, attempts failed').toBe(true);
    const sent = (conn: string | undefined): string[] => mine.filter((e) => e.kind === 'sent' && e.conn === conn && !e.payload.includes('heartbeat')).map((e) => e.payload);
    expect(sent(second), 'the same subscription on the new connection').toEqual(sent(first));
    expect(mine.filter((e) => e.kind === 'frame' && e.conn === second).length).toBeGreaterThan(20);
  });

  it('left Bitstamp when it asked, and got Kraken\'s trade snapshot on each connection', () => {
    expect(events.some((e) => e.exchange === 'bitstamp' && e.kind === 'close' && e.meta.includes('the exchange asked to reconnect'))).toBe(true);
    const opens = events.filter((e) => e.exchange === 'kraken' && e.kind === 'open').map((e) => e.conn);
    for (const conn of opens) {
      expect(events.filter((e) => e.conn === conn && e.kind === 'frame' && e.payload.startsWith('{"channel":"trade","type":"snapshot"')), conn).toHaveLength(2);
    }
  });

  it('backfilled the outage of each exchange with REST by trade id, asked Bitstamp for its transactions, and said Kraken\'s gap needs none', async () => {
    const gaps = await readParquet(path.join(outDir, 'gaps.parquet'));
    expect(new Set(gaps.map((g) => g.exchange)), 'the exchanges whose ids show the outage').toEqual(new Set(['binance', 'coinbase', 'bitstamp']));
    expect(gaps.filter((g) => g.exchange === 'bitstamp').map((g) => g.reason)).toEqual(expect.arrayContaining(['reconnect']));
    for (const x of ['binance', 'coinbase', 'bitstamp']) expect(events.some((e) => e.exchange === x && e.kind === 'rest'), x).toBe(true);
    expect(events.filter((e) => e.kind === 'rest' && e.exchange === 'bitstamp').every((e) => /\/api\/v2\/transactions\/(btc|eth)usd\/\?time=day$/.test(e.meta))).toBe(true);
    expect(events.some((e) => e.kind === 'gap' && e.payload.includes('"failed"')), 'no backfill failed').toBe(false);
  });

  it('decoded every frame the simulator sent: trades of every exchange in the candles, no decode errors, no unknown messages', async () => {
    expect(await readParquet(path.join(outDir, 'decode_errors.parquet'))).toEqual([]);
    const m = readManifest(outDir);
    for (const x of EXCHANGES) expect(m.stats.decode[x]?.unknown ?? {}, x).toEqual({});
    const candles = await readParquet(path.join(outDir, 'candles.parquet'));
    for (const x of EXCHANGES) {
      expect(candles.filter((c) => exchangeOf(c.exchange) === x && c.interval === '10s').reduce((n, c) => n + Number(c.trades), 0), x).toBeGreaterThan(50);
    }
  });

  it.each(EXCHANGES)('%s: complete candles equal the simulator\'s own trade log, the outage included', async (x) => {
    const candles = (await readParquet(path.join(outDir, 'candles.parquet'))).filter((c) => exchangeOf(c.exchange) === x && c.complete === true);
    expect(candles.length).toBeGreaterThan(20);
    expectCandlesOfTrades(candles, sim.trades(x));
  });

  it('cryptocompare: one socket, each market a venue of its own in the candles; the replayed trades were repeats', async () => {
    const candles = await readParquet(path.join(outDir, 'candles.parquet'));
    expect(new Set(candles.filter((c) => exchangeOf(c.exchange) === 'cryptocompare').map((c) => c.exchange))).toEqual(new Set(['cryptocompare:Coinbase', 'cryptocompare:Kraken', 'cryptocompare:Bitstamp']));
    expect(readManifest(outDir).stats.decode.cryptocompare!.duplicates, 'the second subscribe replayed trades already taken').toBeGreaterThan(0);
  });

  it('cryptocompare: the API key is in no byte the recorder wrote (archive, spool, outputs, manifest) nor on its stdout/stderr; the open URL has it masked', () => {
    const files = (function walk(d: string): string[] {
      return fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    })(dir);
    expect(files.some((f) => f.endsWith('.parquet')) && files.some((f) => f.includes('spool')) && files.some((f) => f.endsWith('manifest.json'))).toBe(true);
    for (const f of files) expect(fs.readFileSync(f).includes(API_KEY), f).toBe(false);
    // The archive is compressed: its events are read back too.
    for (const e of events) expect(`${e.payload} ${e.meta}`.includes(API_KEY), `${e.kind} ${e.meta}`).toBe(false);
    expect(said.includes(API_KEY)).toBe(false);
    const opens = events.filter((e) => e.exchange === 'cryptocompare' && e.kind === 'open');
    expect(opens.length).toBeGreaterThan(0);
    for (const o of opens) expect(o.meta).toMatch(/\?api_key=\*\*\*$/);
  });

  it('replays to the same digests, and verify says identical', () => {
    expectReplayIdentical(dir, outDir, '1s,10s');
  });
});
