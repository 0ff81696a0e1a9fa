/** What `tapedeck demo` prints is read by newcomers: dates in UTC, and what its counts count. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { readParquet } from '../../src/storage/parquet.ts';
import { runCli, tmpDir } from '../helpers.ts';

it('prints each last candle with its date in UTC, says which the input cut short, and what an arbitrage row is', async () => {
  const out = tmpDir();
  const r = runCli(['demo', '--minutes', '3', '--start', '2024-08-09T23:58:30Z', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  const printed = r.stdout.split('\n').filter((l) => /^ {2}\S+ \S+ +\d{4}-/.test(l));
  const candles = (await readParquet(path.join(out, 'out', 'candles.parquet'))).filter((c) => c.interval === '1m');
  expect(printed.length, r.stdout).toBe(new Set(candles.map((c) => `${c.exchange} ${c.symbol}`)).size);
  for (const line of printed) {
    const [exchange, symbol, day, minute] = line.trim().split(/\s+/);
    const last = candles.filter((c) => c.exchange === exchange && c.symbol === symbol).at(-1)!;
    // The session crosses midnight: the date is what tells 00:01 of the 10th from 00:01 of the 9th.
    expect(`${day} ${minute}`).toBe(new Date(Number(last.window_start)).toISOString().replace('T', ' ').slice(0, 16));
    expect(line).toMatch(/ UTC /);
    expect(line.includes('cut short'), `marked cut exactly when its flags say end (${last.flags})`).toBe(String(last.flags).split(',').includes('end'));
  }
  expect(printed.some((l) => l.includes('cut short')), 'a session of whole minutes starting at :30 ends inside a minute').toBe(true);
  const arb = await readParquet(path.join(out, 'out', 'arbitrage.parquet'));
  const ends = arb.filter((a) => a.event === 'end').length;
  expect(r.stdout).toContain(`arbitrage opportunities: ${ends} (arbitrage.parquet has a start and an end row for each)`);
  expect(arb.length).toBe(2 * ends);
});

it('simulates the exchanges named by --exchanges: candles of each, every frame decoded, and refuses one it does not know', async () => {
  const out = tmpDir();
  const r = runCli(['demo', '--minutes', '2', '--exchanges', 'bitstamp,kraken,coinbase,cryptocompare', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('simulated 2 min of bitstamp + kraken + coinbase + cryptocompare (BTC, ETH)');
  const candles = await readParquet(path.join(out, 'out', 'candles.parquet'));
  // CryptoCompare's markets are venues of their own.
  const cc = ['Coinbase', 'Kraken', 'Bitstamp'].flatMap((m) => [`cryptocompare:${m} ${m}~BTC~USD`, `cryptocompare:${m} ${m}~ETH~USD`]);
  expect(new Set(candles.map((c) => `${c.exchange} ${c.symbol}`))).toEqual(new Set(['bitstamp btcusd', 'bitstamp ethusd', 'coinbase BTC-USD', 'coinbase ETH-USD', 'kraken BTC/USD', 'kraken ETH/USD', ...cc]));
  const manifest = JSON.parse(readFileSync(path.join(out, 'out', 'manifest.json'), 'utf8')) as { stats: { decode: Record<string, { errors: number; unknown: Record<string, number> }> } };
  // The fault drills' frames are Binance's and Coinbase's: only Coinbase's unknown message is here.
  expect(manifest.stats.decode.bitstamp).toMatchObject({ errors: 0, unknown: {} });
  expect(manifest.stats.decode.kraken).toMatchObject({ errors: 0, unknown: {} });
  expect(manifest.stats.decode.cryptocompare).toMatchObject({ errors: 0, unknown: {} });
  const bad = runCli(['demo', '--exchanges', 'binance,gemini', '--out', out]);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr.trim()).toMatch(/^tapedeck: unknown exchange "gemini" \(supported: binance, bitstamp, coinbase, cryptocompare, kraken\)$/);
});
