/**
 * `node --import tsx test/bench/fold-bound.ts [archive, default: a generated 1M-event demo] [--ohlc]`:
 * how fast a replay could be if its frames were already decoded (issue 9: the decoded-event
 * cache the closing notes argue for). In process, the archive's LogEvents held in memory
 * (no reading in the timings): the engine fed as a replay feeds it (decode + fold), against
 * the same engine fed each event's market events decoded beforehand (fold only). Both runs
 * must write the same tables; `--ohlc` folds 1m candles only, as the Spark comparison does.
 *
 * The fold-only run hands each exchange's state a decoder that returns the decoded events in
 * order: the engine has no other way in, and needs none outside this measurement.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planArchive, readArchiveBatches } from '../../replayer/read.ts';
import { generateArchive } from '../../src/cli/demo.ts';
import { DEFAULT_CONFIG, type EngineConfig } from '../../src/engine/config.ts';
import { Engine } from '../../src/engine/engine.ts';
import { TableCollector } from '../../src/engine/rows.ts';
import { makeDecoder, type Decoder } from '../../src/exchanges/registry.ts';
import type { LogEvent } from '../../src/log/event.ts';
import type { MarketEvent } from '../../src/market/events.ts';

const args = process.argv.slice(2);
const cfg: EngineConfig = args.includes('--ohlc') ? { ...DEFAULT_CONFIG, intervalsMs: [60_000], smaPeriods: [], emaPeriods: [] } : DEFAULT_CONFIG;
let archive = args.find((a) => !a.startsWith('--'));
const tmp = archive === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-fold-')) : undefined;
if (archive === undefined) {
  archive = path.join(tmp!, 'raw');
  generateArchive({ minutes: 600, out: archive });
}

const events: LogEvent[] = [];
for await (const batch of readArchiveBatches(await planArchive(archive))) for (const ev of batch) events.push(ev);

/** Every event's market events, from a decoder per exchange run over the events in order, as the engine runs them. */
function decodeAll(): MarketEvent[][] {
  const decoders = new Map<string, Decoder | undefined>();
  return events.map((ev) => {
    if (ev.kind === 'tick') return [];
    if (!decoders.has(ev.exchange)) decoders.set(ev.exchange, makeDecoder(ev.exchange));
    return decoders.get(ev.exchange)?.decode(ev) ?? [];
  });
}

function fold(decoded?: MarketEvent[][]): { ms: number; rows: string } {
  const tables = new TableCollector();
  const engine = new Engine(cfg, tables);
  let i = 0;
  if (decoded !== undefined) {
    // The engine makes an exchange's state (and its decoder) on the exchange's first event.
    const x = engine as unknown as { exchange(name: string): { decoder: Decoder } | undefined };
    const make = x.exchange.bind(engine);
    const given = new Set<object>();
    x.exchange = (name) => {
      const state = make(name);
      if (state !== undefined && !given.has(state)) {
        given.add(state);
        state.decoder = { decode: () => decoded[i]!, counts: state.decoder.counts };
      }
      return state;
    };
  }
  const t0 = performance.now();
  for (; i < events.length; i++) engine.onLog(events[i]!);
  engine.finish();
  const ms = performance.now() - t0;
  return { ms, rows: JSON.stringify(tables.tables, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) };
}

const rate = (ms: number): string => `${Math.round(events.length / (ms / 1000)).toLocaleString('en')} events/s (${(ms / 1000).toFixed(2)} s)`;
console.log(`${events.length.toLocaleString('en')} events of ${archive}${args.includes('--ohlc') ? ', 1m OHLC only' : ''}`);
for (let run = 0; run < 3; run++) {
  const full = fold();
  const decoded = decodeAll();
  const only = fold(decoded);
  if (only.rows !== full.rows) throw new Error('the fold of decoded events wrote other tables than decode + fold');
  console.log(`decode + fold ${rate(full.ms)} · fold of decoded events ${rate(only.ms)} · ${(full.ms / only.ms).toFixed(2)}×`);
}
if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
