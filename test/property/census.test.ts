/**
 * The import's census shortcut (spec.ts `Census`: Binance's market-data routes counted, not
 * decoded) against the census that decodes every event: whenever the shortcut says it is
 * sure, its warning lines and counters equal the full census's, over real frames in order
 * and over runs of real and mutated frames (mutations: test/property/mutations.ts, which
 * also turn trades into aggTrades and back). It is unsure only when it met both trade
 * streams, and then the import counts again with the full census.
 */
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DecodeCensus } from '../../src/exchanges/undecoded.ts';
import { importRecordings } from '../../src/importers/import.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { REAL, tmpDir } from '../helpers.ts';
import { FRAMES, cryptofeed, hft } from './frames.ts';
import { mutation } from './mutations.ts';

const event = (recvNs: bigint, payload: string, i: number): LogEvent =>
  ({ session: 'p', ingestSeq: i, recvNs, exchange: 'binance', conn: 'c', kind: payload.startsWith('{"lastUpdateId"') ? 'rest' : 'frame', payload, meta: '' });

/** Both censuses over the same frames. */
function censuses(frames: readonly [bigint, string][]): { short: DecodeCensus; full: DecodeCensus } {
  const short = new DecodeCensus();
  const full = new DecodeCensus(true);
  frames.forEach(([ns, payload], i) => {
    const ev = event(ns, payload, i);
    short.onLog(ev);
    full.onLog(ev);
  });
  return { short, full };
}

function expectSame(frames: readonly [bigint, string][]): boolean {
  const { short, full } = censuses(frames);
  if (!short.sure) return false;
  expect(short.lines(), 'the warnings an import prints').toEqual(full.lines());
  const counters = (c: DecodeCensus): unknown => ({ recognised: c.decode.binance?.recognised, unknown: c.decode.binance?.unknown });
  expect(counters(short), 'counters').toStrictEqual(counters(full));
  return true;
}

const TRADE = (stream: 'trade' | 'aggTrade', id: number): string =>
  `{"stream":"btcusdt@${stream}","data":{"e":"${stream}","E":1723161255343,"s":"BTCUSDT","${stream === 'trade' ? 't' : 'a'}":${id},"p":"61837.63","q":"0.02","T":1723161255342,"m":true}}`;
const T0 = 1_723_161_255_000_000_000n;

describe('the census shortcut', () => {
  it.skipIf(!REAL)('is sure, and equal to decoding every event, on each real Binance recording', () => {
    const recordings = [
      hft('binance/hftbacktest/btcusdt_20240808.gz'), hft('binance/hftbacktest/btcusdt_20240809.gz'),
      cryptofeed('binance/cryptofeed/BINANCE-ee25be.0'), cryptofeed('binance/cryptofeed/BINANCE-b38f7c.0'), cryptofeed('binance/cryptofeed/BINANCE.ws.1.0'),
    ];
    for (const frames of recordings) expect(expectSame(frames), 'one trade stream per recording: sure').toBe(true);
  });

  it('is unsure once both trade streams appear, where the full census counts the second one', () => {
    const frames: [bigint, string][] = [[T0, TRADE('trade', 1)], [T0 + 1n, TRADE('aggTrade', 7)], [T0 + 2n, TRADE('trade', 2)]];
    const { short, full } = censuses(frames);
    expect(short.sure).toBe(false);
    expect(full.lines()).toEqual(['1 binance frame was not decoded (no adapter for channel "aggTrade (second trade stream for BTCUSDT)")']);
    expect(expectSame(frames.filter(([, p]) => p.includes('"trade"'))), 'trades alone: sure').toBe(true);
  });

  it('reads the route as JSON.parse does where a frame only looks like a trade or a quote', () => {
    const kline = '"e":"kline","E":1,"s":"BTCUSDT","k":{"t":1}';
    const frames: [bigint, string][] = [
      [T0, '{"stream":"a","data":{"e":"trade","s":"BTCUSDT","e":"kline"}}'],
      [T0, '{"stream":"a","data":{"e":"bookTicker","\\u0065":"brandNew"}}'],
      [T0, '{"stream":"a","data":{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1","e":"depthUpdate"}}'],
      [T0, `{"stream":"a","data":{${kline}}}`],
      [T0, '{"stream":"a","data":{"e":"trade","s":"BTCUSDT"},"result":null,"id":1}'],
      [T0, '{"stream":"a","data":{"e":"trade","s":"BTCUSDT"}}x'],
      [T0, '{"stream":"a","data":{"e":"bookTicker","s":"BTC\\"USDT"}}'],
    ];
    expect(expectSame(frames)).toBe(true);
    expect(censuses(frames).full.lines().join('\n'), 'the frames above are counted').toMatch(/kline/);
  });

  it('equals decoding every event on runs of real and mutated frames, whenever it is sure', () => {
    const frames = FRAMES.binance!;
    let sure = 0;
    let runs = 0;
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(), mutation, fc.boolean()), { minLength: 1, maxLength: 12 }),
      (steps) => {
        const run: [bigint, string][] = [];
        for (const [n, mutate, mutated] of steps) {
          const [ns, payload] = frames[n % frames.length]!;
          run.push([ns, mutated ? mutate(payload) : payload]);
        }
        runs++;
        if (expectSame(run)) sure++;
      },
    ), { numRuns: 3_000 });
    expect(sure / runs, `sure in ${sure} of ${runs} runs: a shortcut that always gives up would pass the rest`).toBeGreaterThan(0.3);
  });

  it('an import of a recording with both trade streams warns as the full census does (it reads the recording again)', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'btcusdt_20240809.gz');
    const lines = [TRADE('trade', 1), TRADE('aggTrade', 7), TRADE('trade', 2), TRADE('aggTrade', 8)].map((p, i) => `${T0 + BigInt(i)} ${p}`);
    fs.writeFileSync(file, zlib.gzipSync(`${lines.join('\n')}\n`));
    const out = path.join(dir, 'raw');
    const [s] = await importRecordings([file], { format: 'hftbacktest', out });
    expect(s!.notDecoded).toEqual(['2 binance frames were not decoded (no adapter for channel "aggTrade (second trade stream for BTCUSDT)")']);
    expect(s!.files.length, 'the archive is written once').toBe(1);
    expect(fs.readdirSync(path.dirname(s!.files[0]!))).toEqual([path.basename(s!.files[0]!)]);
  });
});
