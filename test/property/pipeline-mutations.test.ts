/**
 * Mutated real frames of every exchange through the whole pipeline (issue 10, property):
 * `import` (cryptofeed and hftbacktest files) → archive → `replay`, and the live path (a
 * WebSocket server on loopback serving the frames to `record`). Whatever the frames hold:
 * nothing throws, the outputs are written, every frame is kept in the archive, and every
 * frame that yields no market event is counted (recognised, unknown, duplicate, error, or
 * undecoded for exchanges without an adapter) — with the same counts as the exact
 * (JSON.parse) decoders give frame by frame. A live run and the replay of its recording
 * agree on every table.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { WebSocketServer } from 'ws';
import { describe, expect, it } from 'vitest';
import { record } from '../../recorder/record.ts';
import { replay } from '../../replayer/replay.ts';
import { decodeBinanceParsed, newBinanceState } from '../../src/exchanges/binance/decode.ts';
import { decodeCoinbaseParsed, newCoinbaseState } from '../../src/exchanges/coinbase/decode.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import { makeDecoder } from '../../src/exchanges/registry.ts';
import type { EngineStats } from '../../src/engine/engine.ts';
import { importRecordings } from '../../src/importers/import.ts';
import { parseCryptofeedLine, parseHftbacktestLine } from '../../src/importers/formats.ts';
import type { LogEvent } from '../../src/log/event.ts';
import type { DecodeCounts, MarketEvent } from '../../src/market/events.ts';
import { newCounts } from '../../src/market/events.ts';
import { TABLE_NAMES } from '../../src/engine/rows.ts';
import { REAL, readArchiveEvents, readLines, readReplayOrder, real, tmpDir } from '../helpers.ts';
import { mutation } from './mutations.ts';

type Oracle = (ev: LogEvent) => MarketEvent[];

/** The exact decoder of an exchange with a fresh state and counters, or none (no adapter). */
function oracleOf(exchange: string): { decode: Oracle; counts: DecodeCounts } | undefined {
  if (exchange === 'binance') {
    const s = newBinanceState();
    return { decode: (ev) => decodeBinanceParsed(ev, s), counts: s.counts };
  }
  if (exchange === 'coinbase') {
    const s = newCoinbaseState();
    return { decode: (ev) => decodeCoinbaseParsed(ev, s), counts: s.counts };
  }
  // Adapters with the JSON.parse path only (Kraken, Bitstamp) are their own oracle.
  const d = makeDecoder(exchange);
  return d && { decode: (ev) => d.decode(ev), counts: d.counts };
}

const total = (c: DecodeCounts): number => Object.values(c.recognised).reduce((a, b) => a + b, 0) + Object.values(c.unknown).reduce((a, b) => a + b, 0) + c.duplicates + c.errors;

/**
 * Folds one exchange's events (in log order) through the exact decoder, asserting that each
 * frame yields a market event or moves a counter; returns what the run's stats must say.
 */
function expected(exchange: string, events: readonly LogEvent[]): { decode?: DecodeCounts; undecoded: number } {
  const o = oracleOf(exchange);
  if (o === undefined) return { undecoded: events.length };
  for (const ev of events) {
    const before = total(o.counts);
    const out = o.decode(ev);
    o.counts.errors += out.filter((m) => m.type === 'decode_error').length;
    if (ev.kind === 'frame') expect(out.length > 0 || total(o.counts) > before, `a frame vanished uncounted: ${JSON.stringify(ev.payload)}`).toBe(true);
  }
  return { decode: o.counts, undecoded: 0 };
}

function assertCounted(stats: EngineStats, byExchange: Map<string, LogEvent[]>): void {
  for (const [x, evs] of byExchange) {
    const want = expected(x, evs);
    if (want.decode) expect(JSON.stringify(stats.decode[x] ?? newCounts()), `${x} counters`).toBe(JSON.stringify(want.decode));
    else expect(stats.undecoded[x], `${x}: every event counted undecoded`).toBe(want.undecoded);
  }
}

function assertWritten(dir: string): void {
  for (const t of TABLE_NAMES.slice(0, 6)) expect(fs.existsSync(path.join(dir, `${t}.parquet`)), `${t}.parquet written`).toBe(true);
  expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(true);
}

const byExchange = (events: readonly LogEvent[]): Map<string, LogEvent[]> => {
  const m = new Map<string, LogEvent[]>();
  for (const ev of events) if (ev.exchange !== '') m.set(ev.exchange, [...(m.get(ev.exchange) ?? []), ev]);
  return m;
};

/** Real received-frame lines of one cryptofeed file, as [time prefix, payload]. */
function cryptofeedFrames(rel: string): [string, string][] {
  return readLines(real(rel)).flatMap((line) => {
    const r = parseCryptofeedLine(line);
    if (!r || r.kind !== 'frame') return [];
    const at = line.indexOf(': ');
    return [[line.slice(0, at), line.slice(at + 2)] as [string, string]];
  });
}

const CRYPTOFEED: Record<string, [string, string][]> = REAL
  ? {
    'BINANCE.ws.1.0': cryptofeedFrames('binance/cryptofeed/BINANCE.ws.1.0'),
    'COINBASE.ws.28.0': cryptofeedFrames('coinbase/cryptofeed/COINBASE.ws.28.0'),
    'KRAKEN.ws.50.0': cryptofeedFrames('kraken/cryptofeed/KRAKEN.ws.50.0'),
    'BITSTAMP.ws.1.0': cryptofeedFrames('bitstamp/cryptofeed/BITSTAMP.ws.1.0'),
  }
  : {};
const HFT: string[] = REAL ? readLines(real('binance/hftbacktest/btcusdt_20240808.gz')).slice(0, 20_000) : [];

/**
 * A line format cannot carry a line break inside a frame (those mutations are the live
 * path's), and a file is UTF-8: a lone surrogate is written, and read back, as U+FFFD.
 */
const oneLine = (payload: string): string => Buffer.from(payload.replace(/[\r\n]/g, ' '), 'utf8').toString('utf8');

/** Picks of (frame index, mutation): two real frames before each mutated one, so ids and clocks have a history. */
const steps = fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 8 });
function pick<T>(frames: readonly T[], s: [number, (t: string) => string][], payloadOf: (f: T) => string, rebuild: (f: T, p: string) => T): T[] {
  const out: T[] = [];
  for (const [n, mutate] of s) {
    const i = n % frames.length;
    for (const j of [i - 2, i - 1]) if (j >= 0) out.push(frames[j]!);
    out.push(rebuild(frames[i]!, mutate(payloadOf(frames[i]!))));
  }
  return out;
}

describe.skipIf(!REAL)('mutated real frames through the pipeline (property)', () => {
  it('import (cryptofeed, every exchange; hftbacktest, Binance) → replay: no throw, outputs written, every frame kept and counted', async () => {
    await fc.assert(fc.asyncProperty(steps, steps, steps, steps, steps, async (...perFile) => {
      const dir = tmpDir('tapedeck-mut-');
      try {
        const files: string[] = [];
        for (const [k, [name, frames]] of Object.entries(CRYPTOFEED).entries()) {
          const lines = pick(frames, perFile[k]!, (f) => f[1], (f, p) => [f[0], oneLine(p)] as [string, string]).map(([t, p]) => `${t}: ${p}`);
          files.push(path.join(dir, name));
          fs.writeFileSync(files.at(-1)!, `${lines.join('\n')}\n`);
        }
        const hft = pick(HFT, perFile[4]!, (l) => l.slice(l.indexOf(' ') + 1), (l, p) => `${l.slice(0, l.indexOf(' '))} ${oneLine(p)}`);
        fs.writeFileSync(path.join(dir, 'btcusdt.gz'), gzipSync(`${hft.join('\n')}\n`));

        const raw = path.join(dir, 'raw');
        const sessions = [
          ...await importRecordings(files, { format: 'cryptofeed', out: raw }),
          ...await importRecordings([path.join(dir, 'btcusdt.gz')], { format: 'hftbacktest', out: raw }),
        ];
        const archived = await readArchiveEvents(raw);
        // Every line is in the archive, in order: as the frame it was, or as an error event saying why not.
        for (const s of sessions) {
          const file = s.inputs[0]!;
          const parse = file.endsWith('.gz') ? parseHftbacktestLine : (l: string) => parseCryptofeedLine(l);
          const text = file.endsWith('.gz') ? hft.join('\n') : fs.readFileSync(file, 'utf8').replace(/\n$/, '');
          const want = text.split('\n').filter((l) => l !== '').map((l) => {
            try {
              const r = parse(l);
              return r === undefined ? undefined : r.kind === 'frame' ? r.payload : `<${r.kind}>`;
            } catch {
              return '<error>';
            }
          }).filter((w) => w !== undefined);
          const got = archived.filter((e) => e.session === s.session).map((e) => (e.kind === 'frame' ? e.payload : `<${e.kind}>`));
          expect(got, `${path.basename(file)}: every line kept`).toEqual(want);
        }

        const res = await replay({ from: raw, out: path.join(dir, 'replay'), speed: 'max', config: DEFAULT_CONFIG });
        assertWritten(path.join(dir, 'replay'));
        expect(res.manifest.stats.events).toBe(archived.length);
        // Each exchange's events in replay order (one session per imported file, so archive order per exchange).
        assertCounted(res.manifest.stats, byExchange(await readReplayOrder(raw)));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }), { numRuns: 40 });
  }, 300_000);

  it('live: record from a server sending mutated Binance and Coinbase frames — no throw, every frame archived and counted, replay equals live', async () => {
    const binance = CRYPTOFEED['BINANCE.ws.1.0']!.map(([, p]) => p);
    const coinbase = CRYPTOFEED['COINBASE.ws.28.0']!.map(([, p]) => p);
    await fc.assert(fc.asyncProperty(steps, steps, async (sb, sc) => {
      // What the wire carries: a text frame is UTF-8, so a lone surrogate arrives as U+FFFD.
      const wire = (p: string): string => Buffer.from(p, 'utf8').toString('utf8');
      const sent = { binance: pick(binance, sb, (p) => p, (_, p) => wire(p)), coinbase: pick(coinbase, sc, (p) => p, (_, p) => wire(p)) };
      const server = await serve(sent);
      const dir = tmpDir('tapedeck-mutlive-');
      try {
        const res = await record({
          exchanges: ['binance', 'coinbase'], symbols: ['BTC-USD'], out: dir, durationMs: 1_500, config: DEFAULT_CONFIG, metrics: null,
          endpoints: { binance: server.endpoint, coinbase: server.endpoint }, say: () => {}, backoff: { initialMs: 5_000, maxMs: 5_000 },
        });
        assertWritten(res.outDir);
        const archived = await readArchiveEvents(path.join(dir, 'raw'));
        for (const x of ['binance', 'coinbase'] as const) {
          const frames = archived.filter((e) => e.exchange === x && e.kind === 'frame').map((e) => e.payload);
          expect(frames, `${x}: every frame sent is in the archive, in order`).toEqual(sent[x].slice(0, frames.length));
          expect(frames.length, `${x}: all of them`).toBe(sent[x].length);
        }
        assertCounted(res.manifest.stats, byExchange(archived.filter((e) => e.session === res.session)));
        const rep = await replay({ from: path.join(dir, 'raw'), out: path.join(dir, 'replay'), speed: 'max', config: DEFAULT_CONFIG, sessions: [res.session] });
        for (const t of Object.keys(res.manifest.tables)) expect(rep.manifest.tables[t]!.sha256, `${t}: replay = live`).toBe(res.manifest.tables[t]!.sha256);
      } finally {
        await server.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }), { numRuns: 8 });
  }, 300_000);
});

/** A loopback exchange: every WebSocket connection gets the exchange's frames (by URL); REST answers 404. */
async function serve(frames: { binance: string[]; coinbase: string[] }): Promise<{ endpoint: { ws: string; rest: string }; close: () => Promise<void> }> {
  const httpServer = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":-1121,"msg":"Invalid symbol."}'));
  const wss = new WebSocketServer({ server: httpServer });
  wss.on('connection', (ws, req) => {
    const list = req.url?.startsWith('/stream') ? frames.binance : frames.coinbase;
    for (const f of list) ws.send(f);
  });
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  const { port } = httpServer.address() as AddressInfo;
  return {
    endpoint: { ws: `ws://127.0.0.1:${port}`, rest: `http://127.0.0.1:${port}` },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
      await new Promise((r) => httpServer.close(r));
    },
  };
}
