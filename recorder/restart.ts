/**
 * Trade-id continuity across restarts. A new session starts with an empty trade-id tracker,
 * so the trades made while no recorder ran (a crash, a deploy) would be a hole no one sees,
 * and the candles around it would be called complete without them. So before it connects,
 * the recorder reads each symbol's last trade id from the newest archive files of its venue,
 * asks the exchange for its newest trade, and backfills the ids in between over REST, as the
 * session's first events: the new session continues exactly where the archive stopped, and
 * a replay of the whole archive sees one unbroken run of ids. Trades made while it connects
 * are an ordinary gap, which the live engine finds and backfills as usual.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LogEvent } from '../src/log/event.ts';
import { makeDecoder } from '../src/exchanges/registry.ts';
import { readArchiveFile } from '../src/storage/archive-read.ts';
import { abortable } from './backfill.ts';
import type { Venue } from './venues.ts';

/**
 * The largest hole a restart backfills, in trades per symbol: 10 Binance `historicalTrades`
 * pages or 10 Coinbase pages of 1000. A longer outage is said aloud and left as a known gap.
 */
export const MAX_RESTART_BACKFILL = 10_000n;
/** Wall time the whole restart backfill may take before recording starts (a backfill under way then gives up: a failed gap). */
const BUDGET_MS = 20_000;
/** Files read back per venue to find each symbol's last trade: the newest ones, at most this many. */
const MAX_FILES = 4;

function archiveFilesOf(rawDir: string, exchange: string): string[] {
  const root = path.join(rawDir, `venue=${exchange}`);
  if (!fs.existsSync(root)) return [];
  const out: { file: string; mtimeMs: number }[] = [];
  for (const day of fs.readdirSync(root)) {
    const dir = path.join(root, day);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir)) {
      if (f.endsWith('.parquet') && !f.startsWith('.')) out.push({ file: path.join(dir, f), mtimeMs: fs.statSync(path.join(dir, f)).mtimeMs });
    }
  }
  return out.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.file < b.file ? 1 : -1)).map((x) => x.file);
}

/** The last trade the archive holds for each wanted (native) symbol: its id, and its exchange time (µs). */
export interface LastTrade {
  readonly id: bigint;
  readonly tsUs: number;
}

/** The last trade the archive holds for each wanted (native) symbol of `exchange`, from its newest files. */
export async function lastArchivedTrades(rawDir: string, exchange: string, wanted: readonly string[]): Promise<Map<string, LastTrade>> {
  const last = new Map<string, LastTrade>();
  const decoder = makeDecoder(exchange);
  if (decoder === undefined) return last;
  const batches: LogEvent[][] = [];
  for (const f of archiveFilesOf(rawDir, exchange).slice(0, MAX_FILES)) {
    try {
      batches.unshift(await readArchiveFile(f));
    } catch {
      continue; // An unreadable file is the archive's problem, not a reason not to record.
    }
    // Cheap test first: a file that names every symbol holds their last trades.
    if (wanted.every((s) => batches.some((b) => b.some((ev) => ev.payload.includes(s))))) break;
  }
  for (const evs of batches) {
    for (const ev of evs) {
      for (const m of decoder.decode(ev)) {
        if (m.type === 'trade' && wanted.includes(m.symbol) && m.tradeId > (last.get(m.symbol)?.id ?? -1n)) last.set(m.symbol, { id: m.tradeId, tsUs: m.tsUs });
      }
    }
  }
  return last;
}

export interface RestartDeps {
  readonly rawDir: string;
  readonly venues: Iterable<Venue>;
  /** Logs a REST response or a gap note on the venue's `rest` connection. */
  readonly log: (v: Venue, kind: 'rest' | 'gap', payload: string, meta: string) => void;
  /**
   * Fetches and logs ids fromId..toId (the recorder's gap backfill; `sinceUs`, the last
   * archived trade's time, is where an exchange that pages by time starts); resolves when done or failed.
   */
  readonly backfill: (v: Venue, symbol: string, fromId: bigint, toId: bigint, sinceUs: number, signal: AbortSignal) => Promise<void>;
  readonly say: (line: string) => void;
  /** A stop asked for (Ctrl-C, SIGTERM): the backfill under way gives up and recording starts (to stop at once). */
  readonly stop?: AbortSignal;
}

async function newestTradeId(trades: NonNullable<Venue['trades']>, symbol: string, signal: AbortSignal): Promise<bigint | undefined> {
  const request = abortable(5_000, signal);
  try {
    const res = await fetch(trades.latestTradeUrl(symbol), { signal: request.signal });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return trades.newestTradeId(await res.text());
  } finally {
    request.done();
  }
}

/** Backfills, for every symbol the archive already holds, the trades made since its last one. */
export async function restartBackfill(d: RestartDeps): Promise<void> {
  // The budget bounds each backfill too, not only the choice of the next: nothing is committed and
  // no stop is heard until recording starts, and one backfill that paged on held the recorder there.
  const budget = abortable(BUDGET_MS, d.stop, `the restart's ${BUDGET_MS / 1000} s for backfills are up`);
  try {
    await backfillAll(d, budget.signal);
  } finally {
    budget.done();
  }
}

async function backfillAll(d: RestartDeps, signal: AbortSignal): Promise<void> {
  for (const v of d.venues) {
    // No REST trade history (an aggregator's stream): nothing to ask for.
    if (v.trades === undefined) continue;
    const last = await lastArchivedTrades(d.rawDir, v.exchange, v.symbols);
    for (const [symbol, { id: lastId, tsUs }] of last) {
      if (signal.aborted) {
        d.say(`restart: ${d.stop?.aborted ? 'stopping' : 'no time left'}: ${v.exchange} ${symbol}'s trades after ${lastId} made while no recorder ran are not backfilled`);
        continue;
      }
      let newest: bigint | undefined;
      try {
        newest = await newestTradeId(v.trades, symbol, signal);
      } catch (err) {
        // One unanswered request stands for the venue: its other symbols would wait as long.
        d.say(`restart: cannot ask ${v.exchange} for its newest trades (${(err as Error).message}); trades of ${[...last.keys()].join(', ')} made while no recorder ran are not backfilled`);
        break;
      }
      if (newest === undefined || newest <= lastId) continue;
      const fromId = lastId + 1n;
      const n = newest - lastId;
      if (n > MAX_RESTART_BACKFILL) {
        const why = `restart hole of ${n} trades is more than the ${MAX_RESTART_BACKFILL} a restart backfills`;
        d.log(v, 'gap', JSON.stringify({ symbol, from: String(fromId), to: String(newest), status: 'failed', error: why }), v.restBase);
        d.say(`restart: ${v.exchange} ${symbol} trades ${fromId}..${newest} were made while no recorder ran and are not backfilled (${why})`);
        continue;
      }
      d.say(`restart: backfilling ${n} trade${n === 1n ? '' : 's'} of ${v.exchange} ${symbol} (ids ${fromId}..${newest}) made since the archive's last one`);
      await d.backfill(v, symbol, fromId, newest, tsUs, signal);
    }
  }
}
