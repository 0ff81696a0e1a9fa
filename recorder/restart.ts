/**
 * Trade-id continuity across restarts. A new session starts with an empty trade-id tracker,
 * so the trades made while no recorder ran (a crash, a deploy) would be a hole no one sees.
 * Before connecting, the recorder primes one decoder per exchange with the newest archive
 * files of that venue (the last trades the archive holds), then runs the new session's
 * first frames through it: the first verdict per symbol is either "continues" or a gap,
 * exactly the gap a replay of the whole archive will see, which the recorder backfills.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LogEvent } from '../src/log/event.ts';
import { makeDecoder, type Decoder } from '../src/exchanges/registry.ts';
import { readArchiveFile } from '../src/storage/archive-read.ts';

export interface RestartHole {
  readonly exchange: string;
  readonly symbol: string;
  readonly fromId: bigint;
  readonly toId: bigint;
}

/**
 * The largest hole a restart backfills, in trades per symbol: 10 Binance `historicalTrades`
 * pages or 10 Coinbase pages of 1000. A longer outage is said aloud and left as a known gap.
 */
export const MAX_RESTART_BACKFILL = 10_000n;

/** Files read back per venue to find each symbol's last trade: the newest ones, at most this many. */
const MAX_FILES = 4;
/** Frames decoded per exchange before giving up on a symbol that does not trade. */
const MAX_WATCHED_FRAMES = 200_000;

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

export class RestartContinuity {
  private readonly watch = new Map<string, { decoder: Decoder; symbols: Set<string>; frames: number }>();

  /** `symbols`: exchange → native symbols this run records. */
  static async prime(rawDir: string, symbols: ReadonlyMap<string, readonly string[]>): Promise<RestartContinuity> {
    const r = new RestartContinuity();
    for (const [exchange, wanted] of symbols) {
      const decoder = makeDecoder(exchange);
      if (decoder === undefined) continue;
      const files = archiveFilesOf(rawDir, exchange);
      const chosen: string[] = [];
      const seen = new Set<string>();
      const events: LogEvent[][] = [];
      for (const f of files.slice(0, MAX_FILES)) {
        let evs: LogEvent[];
        try {
          evs = await readArchiveFile(f);
        } catch {
          continue; // An unreadable file is the archive's problem, not a reason not to record.
        }
        chosen.push(f);
        events.unshift(evs);
        for (const ev of evs) if (ev.kind === 'frame' || ev.kind === 'rest') for (const s of wanted) if (ev.payload.includes(s)) seen.add(s);
        if (wanted.every((s) => seen.has(s))) break;
      }
      if (chosen.length === 0) continue;
      // Oldest first, as they happened: the tracker ends on each symbol's last trade.
      const known = new Set<string>();
      for (const evs of events) {
        for (const ev of evs) {
          for (const m of decoder.decode(ev)) if (m.type === 'trade') known.add(m.symbol);
        }
      }
      const watched = new Set(wanted.filter((s) => known.has(s)));
      if (watched.size > 0) r.watch.set(exchange, { decoder, symbols: watched, frames: 0 });
    }
    return r;
  }

  get watching(): boolean {
    return this.watch.size > 0;
  }

  /** Runs one event of the new session through the primed decoder; returns the restart holes it shows. */
  check(ev: LogEvent): RestartHole[] {
    const w = this.watch.get(ev.exchange);
    if (w === undefined || (ev.kind !== 'frame' && ev.kind !== 'rest')) return [];
    const holes: RestartHole[] = [];
    for (const m of w.decoder.decode(ev)) {
      if ((m.type !== 'gap' && m.type !== 'trade') || !w.symbols.has(m.symbol)) continue;
      w.symbols.delete(m.symbol);
      if (m.type === 'gap') holes.push({ exchange: ev.exchange, symbol: m.symbol, fromId: m.fromId, toId: m.toId });
    }
    if (w.symbols.size === 0 || ++w.frames > MAX_WATCHED_FRAMES) this.watch.delete(ev.exchange);
    return holes;
  }
}
