/**
 * Acceptance for issue 11 §2 on the real recordings: cryptofeed's Kraken v1 and Bitstamp v2
 * files go through the CLI a user runs (`import --format cryptofeed` → `replay`), and every
 * candle, every field, equals one recomputed here straight from the frames' JSON, with no
 * tapedeck decoder on the way (the frames are read from the archive only to learn their
 * log positions, after checking they are the recording's own text, byte for byte).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readParquet } from '../../src/storage/parquet.ts';
import { REAL, readArchiveEvents, readLines, real, runCli, tmpDir } from '../helpers.ts';

/**
 * The four recordings, each imported and replayed on its own: one recorder session each, so
 * a window is flagged only for where its recording began or ended (a second session of the
 * same exchange would be a disconnect to the engine, and hold its last windows as `gap`).
 */
const RECORDINGS: Record<string, string[]> = {
  'kraken-2021-04-05': ['kraken/cryptofeed/KRAKEN-82ac16.0'],
  'kraken-2021-04-17': ['KRAKEN.ws.48.0', 'KRAKEN.ws.49.0', 'KRAKEN.ws.50.0'].map((f) => `kraken/cryptofeed/${f}`),
  'bitstamp-2021-04-05': ['bitstamp/cryptofeed/BITSTAMP-b88f8b.0'],
  'bitstamp-2022-01-05': ['BITSTAMP.ws.1.0', 'BITSTAMP.http.0.0'].map((f) => `bitstamp/cryptofeed/${f}`),
};

interface RefTrade { exchange: string; symbol: string; asset: string; price: number; size: string; quote: number; buy: boolean; tsUs: bigint; id: bigint; session: string; seq: bigint }

/** `"0.07920000"` → units of 1e-8, exactly (every size here has at most 8 decimals). */
function units(dec: string): bigint {
  const [i, f = ''] = dec.split('.');
  expect(f.length, `${dec} has at most 8 decimals`).toBeLessThanOrEqual(8);
  return BigInt(i!) * 100_000_000n + BigInt(f.padEnd(8, '0'));
}

/** Seconds with a decimal fraction (`"1618678142.557535"`) → µs, exactly. */
const secondsUs = (s: string): bigint => {
  const [i, f = ''] = s.split('.');
  return BigInt(i!) * 1_000_000n + BigInt(f.padEnd(6, '0').slice(0, 6));
};

/** The trades of one frame, read here from its JSON (protocols.md §4, §5), or none. */
function tradesOf(exchange: string, payload: string): Omit<RefTrade, 'session' | 'seq' | 'exchange'>[] {
  const msg = JSON.parse(payload) as unknown;
  if (exchange === 'kraken' && Array.isArray(msg) && msg.at(-2) === 'trade') {
    const pair = msg.at(-1) as string;
    // v1 names bitcoin XBT; the canonical asset is BTC.
    const asset = pair.replace(/^XBT\//, 'BTC/').replace(/\/XBT$/, '/BTC');
    return (msg[1] as string[][]).map((r) => ({
      symbol: pair, asset, price: Number(r[0]), size: r[1]!, quote: Number(r[0]) * Number(r[1]), buy: r[3] === 'b', tsUs: secondsUs(r[2]!), id: 0n,
    }));
  }
  const o = msg as { event?: string; channel?: string; data?: Record<string, string | number> };
  if (exchange === 'bitstamp' && o.event === 'trade') {
    const pair = o.channel!.slice('live_trades_'.length);
    const d = o.data!;
    const quoteAt = pair.search(/(usdt|usdc|pax|usd|eur|gbp|btc|eth)$/);
    return [{
      symbol: pair, asset: `${pair.slice(0, quoteAt).toUpperCase()}/${pair.slice(quoteAt).replace(/^(usdt|usdc|pax)$/, 'usd').toUpperCase()}`,
      price: Number(d.price_str), size: String(d.amount_str), quote: Number(d.price_str) * Number(d.amount_str), buy: d.type === 0,
      tsUs: BigInt(String(d.microtimestamp)), id: BigInt(String(d.id)),
    }];
  }
  return [];
}

interface Ref { open: RefTrade; close: RefTrade; high: number; low: number; volume: bigint; buy: bigint; sell: bigint; quote: number; trades: number; first: bigint; last: bigint; lastIn: RefTrade }

function referenceCandles(trades: readonly RefTrade[]): Map<string, Ref & { exchange: string; symbol: string; asset: string; interval: string; startMs: bigint; flags: string }> {
  const out = new Map<string, Ref & { exchange: string; symbol: string; asset: string; interval: string; startMs: bigint; flags: string }>();
  const firstTs = new Map<string, bigint>();
  const newest = new Map<string, bigint>();
  for (const t of trades) {
    const k = `${t.exchange}:${t.symbol}`;
    if (!firstTs.has(k)) firstTs.set(k, t.tsUs);
    if (t.tsUs > (newest.get(t.exchange) ?? 0n)) newest.set(t.exchange, t.tsUs);
  }
  for (const [interval, lenUs] of [['1m', 60_000_000n], ['5m', 300_000_000n]] as const) {
    for (const t of trades) {
      const startUs = (t.tsUs / lenUs) * lenUs;
      const key = `${t.exchange}|${t.symbol}|${interval}|${startUs}`;
      const u = units(t.size);
      let c = out.get(key);
      if (c === undefined) {
        const flags = [];
        if (startUs < firstTs.get(`${t.exchange}:${t.symbol}`)!) flags.push('start');
        if (startUs + lenUs > newest.get(t.exchange)!) flags.push('end');
        out.set(key, (c = {
          exchange: t.exchange, symbol: t.symbol, asset: t.asset, interval, startMs: startUs / 1000n, flags: flags.join(','),
          open: t, close: t, high: t.price, low: t.price, volume: 0n, buy: 0n, sell: 0n, quote: 0, trades: 0, first: t.id, last: t.id, lastIn: t,
        }));
      }
      // Open: the earliest exchange time (ties: the first to arrive); close: the latest (ties: the last).
      if (t.tsUs < c.open.tsUs) c.open = t;
      if (t.tsUs >= c.close.tsUs) c.close = t;
      c.high = Math.max(c.high, t.price);
      c.low = Math.min(c.low, t.price);
      c.volume += u;
      if (t.buy) c.buy += u;
      else c.sell += u;
      c.quote += t.quote;
      c.trades++;
      if (t.id < c.first) c.first = t.id;
      if (t.id > c.last) c.last = t.id;
      c.lastIn = t;
    }
  }
  return out;
}

describe.skipIf(!REAL)('Kraken v1 and Bitstamp recordings: import, replay, candles', () => {
  const dir = tmpDir();
  /** Per recording: its candles as replayed, and its trades as read here. */
  const runs = new Map<string, { candles: Record<string, unknown>[]; trades: RefTrade[] }>();
  const trades = (): RefTrade[] => [...runs.values()].flatMap((r) => r.trades);

  beforeAll(async () => {
    for (const [name, rel] of Object.entries(RECORDINGS)) {
      const files = rel.map(real);
      const raw = path.join(dir, name, 'raw');
      const imp = runCli(['import', '--format', 'cryptofeed', ...files, '--out', raw]);
      expect(imp.code, imp.stderr).toBe(0);
      const rep = runCli(['replay', '--from', raw, '--out', path.join(dir, name, 'out')]);
      expect(rep.code, rep.stderr).toBe(0);
      if (name === 'kraken-2021-04-17') expect(rep.stderr, 'the order books tapedeck does not read are said').toContain('tapedeck: warning: 4279 kraken frames were not decoded (no adapter for channel "book")');
      // The archive's frames are the recording's received lines, byte for byte: then their log positions are the frames'.
      const events = await readArchiveEvents(raw);
      const received = files.flatMap((f) => readLines(f)).filter((l) => /^\d+(\.\d+)?: /.test(l)).map((l) => l.slice(l.indexOf(': ') + 2)).sort();
      expect(events.filter((e) => e.kind === 'frame').map((e) => e.payload).sort(), name).toEqual(received);
      runs.set(name, {
        candles: await readParquet(path.join(dir, name, 'out', 'candles.parquet')),
        // In replay order: one session, so ingest order.
        trades: events.filter((e) => e.kind === 'frame').flatMap((e) => tradesOf(e.exchange, e.payload).map((t) => ({ ...t, exchange: e.exchange, session: e.session, seq: BigInt(e.ingestSeq) }))),
      });
    }
  });

  it('finds every trade of the recordings (Kraken 10 + 28, Bitstamp 10 + 32)', () => {
    expect(trades().filter((t) => t.exchange === 'kraken')).toHaveLength(38);
    expect(trades().filter((t) => t.exchange === 'bitstamp')).toHaveLength(42);
  });

  it('gives candles equal to the recomputation, every field', () => {
    for (const [name, { candles, trades: ts }] of runs) {
    const ref = referenceCandles(ts);
    expect(candles.length, `${name}: one candle per (exchange, symbol, interval, window) that traded`).toBe(ref.size);
    for (const c of candles) {
      const key = `${String(c.exchange)}|${String(c.symbol)}|${String(c.interval)}|${BigInt(c.window_start as bigint) * 1000n}`;
      const r = ref.get(key);
      expect(r, `${key} is a window of the recording`).toBeDefined();
      const at = `${key} (${new Date(Number(c.window_start)).toISOString()})`;
      expect({
        exchange: c.exchange, symbol: c.symbol, asset: c.asset, interval: c.interval, window_start: c.window_start,
        open: c.open, high: c.high, low: c.low, close: c.close, trades: c.trades,
        volume: c.volume, buy_volume: c.buy_volume, sell_volume: c.sell_volume,
        first_trade_id: c.first_trade_id, last_trade_id: c.last_trade_id, complete: c.complete, flags: c.flags, session: c.session, ingest_seq: c.ingest_seq,
      }, at).toEqual({
        exchange: r!.exchange, symbol: r!.symbol, asset: r!.asset, interval: r!.interval, window_start: r!.startMs,
        open: r!.open.price, high: r!.high, low: r!.low, close: r!.close.price, trades: r!.trades,
        // Sizes are exact decimals with ≤ 8 places: the sums are exact too.
        volume: Number(r!.volume) / 1e8, buy_volume: Number(r!.buy) / 1e8, sell_volume: Number(r!.sell) / 1e8,
        // Kraken v1 has no trade id at all: 0.
        first_trade_id: r!.first, last_trade_id: r!.last, complete: r!.flags === '', flags: r!.flags, session: r!.lastIn.session, ingest_seq: r!.lastIn.seq,
      });
      // Price × size is rounded to 1e-8 per trade in the engine's exact sum.
      expect(Math.abs((c.quote_volume as number) - r!.quote), `${at} quote volume`).toBeLessThanOrEqual(1e-8 * r!.trades + 1e-12 * r!.quote);
      const vol = Number(r!.volume) / 1e8;
      expect(Math.abs((c.vwap as number) - r!.quote / vol), `${at} vwap, within the quote volume's rounding`).toBeLessThanOrEqual((1e-8 * r!.trades) / vol + 1e-12 * (r!.quote / vol));
    }
    }
  });

  it('keeps the replay deterministic: a second replay, at 50x, writes the same digests', () => {
    const name = 'bitstamp-2022-01-05';
    const again = runCli(['replay', '--from', path.join(dir, name, 'raw'), '--speed', '50x', '--out', path.join(dir, name, 'again')]);
    expect(again.code, again.stderr).toBe(0);
    const digests = (d: string): unknown => (JSON.parse(fs.readFileSync(path.join(dir, name, d, 'manifest.json'), 'utf8')) as { tables: unknown }).tables;
    expect(digests('again')).toEqual(digests('out'));
  });
});
