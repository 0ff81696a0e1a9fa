/**
 * Decoder throughput (issue 9), never run by the test suite:
 *
 *   TAPEDECK_REAL_FIXTURES=… node --import tsx test/bench/decode-bench.ts
 *
 * Over the real hftbacktest BTCUSDT session (both files) and cryptofeed's Coinbase
 * recording, frames/s for (a) JSON.parse alone, (b) the JSON.parse decoder (the old path,
 * kept as the oracle), (c) the scanning decoder. The three run in turn within each round so
 * that a busy machine slows them alike; each figure is the median of the rounds.
 */
import { decodeBinance, decodeBinanceParsed, newBinanceState } from '../../src/exchanges/binance/decode.ts';
import { decodeCoinbase, decodeCoinbaseParsed, newCoinbaseState } from '../../src/exchanges/coinbase/decode.ts';
import { parseCryptofeedLine, parseHftbacktestLine } from '../../src/importers/formats.ts';
import type { LogEvent } from '../../src/log/event.ts';
import type { MarketEvent } from '../../src/market/events.ts';
import { readLines, real, realFixturesDir } from '../helpers.ts';

if (!realFixturesDir()) {
  console.error('decode-bench: set TAPEDECK_REAL_FIXTURES to the real recordings folder');
  process.exit(2);
}

const ROUNDS = Number(process.env.ROUNDS ?? 5);
/** Each timed pass decodes the input this many times, so that a pass lasts long enough to time. */
const REPEAT = Number(process.env.REPEAT ?? 3);

/**
 * Payloads as the archive reader hands them over: each its own flat string (a TextDecoder
 * result), not a slice of one big file text, which would slow character access.
 */
const flat = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

function events(exchange: string, rows: { kind: LogEvent['kind']; recvNs: bigint; payload: string; meta: string }[]): LogEvent[] {
  return rows.map((r, i) => ({ session: 'bench', ingestSeq: i, recvNs: r.recvNs, exchange, conn: 'c', kind: r.kind, payload: flat(r.payload), meta: r.meta }));
}

const binance = events('binance', ['btcusdt_20240808.gz', 'btcusdt_20240809.gz']
  .flatMap((f) => readLines(real(`binance/hftbacktest/${f}`)).map(parseHftbacktestLine)));
const coinbase = events('coinbase', readLines(real('coinbase/cryptofeed/COINBASE.ws.28.0'))
  .flatMap((l) => { const r = parseCryptofeedLine(l); return r && r.kind === 'frame' ? [r] : []; }));

type Pass = (evs: LogEvent[]) => number;

const parseOnly: Pass = (evs) => {
  let n = 0;
  for (const ev of evs) if (ev.kind === 'frame' && JSON.parse(ev.payload) !== null) n++;
  return n;
};

function decoding<S>(fresh: () => S, decode: (ev: LogEvent, s: S) => MarketEvent[]): Pass {
  return (evs) => {
    const s = fresh();
    let n = 0;
    for (const ev of evs) n += decode(ev, s).length;
    return n;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function bench(label: string, evs: LogEvent[], passes: [string, Pass][]): void {
  const rates = passes.map(() => [] as number[]);
  for (let warm = 0; warm < 2; warm++) for (const [, pass] of passes) pass(evs);
  for (let r = 0; r < ROUNDS; r++) {
    passes.forEach(([, pass], i) => {
      const t0 = performance.now();
      for (let k = 0; k < REPEAT; k++) pass(evs);
      rates[i]!.push((evs.length * REPEAT) / ((performance.now() - t0) / 1000));
    });
  }
  const med = rates.map(median);
  const bytes = evs.reduce((n, ev) => n + ev.payload.length, 0);
  console.log(`\n${label}: ${evs.length.toLocaleString('en-US')} frames, ${(bytes / 1e6).toFixed(1)} MB, median of ${ROUNDS} rounds × ${REPEAT} passes`);
  passes.forEach(([name], i) => {
    const ratio = med[i]! / med[0]!;
    console.log(`  ${name.padEnd(34)} ${Math.round(med[i]!).toLocaleString('en-US').padStart(11)} frames/s   ${ratio.toFixed(2)}× JSON.parse`);
  });
}

bench('Binance BTCUSDT (hftbacktest, 2 files)', binance, [
  ['(a) JSON.parse only', parseOnly],
  ['(b) JSON.parse decoder (old path)', decoding(newBinanceState, decodeBinanceParsed)],
  ['(c) scanning decoder (new path)', decoding(newBinanceState, decodeBinance)],
]);
bench('Coinbase (cryptofeed COINBASE.ws.28.0)', coinbase, [
  ['(a) JSON.parse only', parseOnly],
  ['(b) JSON.parse decoder (old path)', decoding(newCoinbaseState, decodeCoinbaseParsed)],
  ['(c) scanning decoder (new path)', decoding(newCoinbaseState, decodeCoinbase)],
]);
