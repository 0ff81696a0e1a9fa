/**
 * Unknown data is never silent (issue 11 §3): what a recording held that became no market
 * event, said per exchange and channel, at import and at replay, from the same counters the
 * manifest keeps (`stats.decode[x].recognised / .unknown` and `stats.undecodedFrames`).
 */
import type { LogEvent } from '../log/event.ts';
import type { DecodeCounts } from '../market/events.ts';
import { makeCensus } from './registry.ts';
import type { Census } from './spec.ts';

/** The most lines said per exchange; the rest are summed into one more line. */
const MAX_LINES_PER_EXCHANGE = 8;

/** Whether an event carries exchange data (a received frame or a REST body), as opposed to connection bookkeeping. */
export const carriesData = (ev: LogEvent): boolean => ev.kind === 'frame' || ev.kind === 'rest';

/**
 * The warning lines (without the `tapedeck: warning: ` prefix), exchanges in name order,
 * channels by count (most first), then name: deterministic, so two replays say the same.
 * `undecodedFrames`: frames of exchanges with no adapter; `decode`: each adapter's counters.
 */
export function undecodedLines(undecodedFrames: Readonly<Record<string, number>>, decode: Readonly<Record<string, DecodeCounts>>): string[] {
  const lines: string[] = [];
  const names = [...new Set([...Object.keys(undecodedFrames), ...Object.keys(decode)])].sort();
  for (const x of names) {
    const none = Object.hasOwn(undecodedFrames, x) ? undecodedFrames[x]! : 0;
    if (none > 0) lines.push(`${none} ${x} ${frames(none)} not decoded (no adapter for exchange ${JSON.stringify(x)})`);
    const c = Object.hasOwn(decode, x) ? decode[x] : undefined;
    if (c === undefined) continue;
    const rows = [
      ...Object.entries(c.recognised).map(([k, n]) => ({ n, text: `no adapter for channel ${JSON.stringify(k)}` })),
      ...Object.entries(c.unknown).map(([k, n]) => ({ n, text: `unknown message ${JSON.stringify(k)}` })),
    ].filter((r) => r.n > 0).sort((a, b) => b.n - a.n || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    for (const r of rows.slice(0, MAX_LINES_PER_EXCHANGE)) lines.push(`${r.n} ${x} ${frames(r.n)} not decoded (${r.text})`);
    const rest = rows.slice(MAX_LINES_PER_EXCHANGE);
    if (rest.length > 0) {
      const n = rest.reduce((a, r) => a + r.n, 0);
      lines.push(`${n} more ${x} ${frames(n)} not decoded (${rest.length} other channels or message types; see manifest.json stats.decode.${x})`);
    }
  }
  return lines;
}

const frames = (n: number): string => (n === 1 ? 'frame was' : 'frames were');

/**
 * The replay's warning lines for trades an earlier tapedeck dropped as repeats without a word:
 * a symbol's trade ids starting again lower at a later time (TradeIdTracker's `reset`).
 */
export function idRunLines(decode: Readonly<Record<string, DecodeCounts>>): string[] {
  return Object.keys(decode).sort().flatMap((x) => {
    const runs = decode[x]!.idRuns ?? 0;
    return runs > 0 ? [`${runs === 1 ? 'once' : `${runs} times`} a ${x} symbol's trade ids started again lower at a later time (two sessions whose ids do not continue each other?): those trades were taken as a new run of ids, not dropped as repeats`] : [];
  });
}

/**
 * Counts, for events not run through the engine (import), what the engine would count:
 * each exchange's adapter over its events, or the data events of an exchange with none.
 * An adapter with a shortcut for the census (spec.ts `Census`) is run through it unless
 * `full`; `sure` is false when a shortcut could not tell (then count again with `full`).
 */
export class DecodeCensus {
  readonly decode: Record<string, DecodeCounts> = Object.create(null) as Record<string, DecodeCounts>;
  readonly undecodedFrames: Record<string, number> = Object.create(null) as Record<string, number>;
  private readonly census = new Map<string, Census | undefined>();

  constructor(private readonly full = false) {}

  onLog(ev: LogEvent): void {
    if (ev.kind === 'tick') return;
    let c = this.census.get(ev.exchange);
    if (!this.census.has(ev.exchange)) {
      this.census.set(ev.exchange, (c = makeCensus(ev.exchange, this.full)));
      if (c !== undefined) this.decode[ev.exchange] = c.counts;
    }
    if (c !== undefined) c.count(ev);
    else if (carriesData(ev)) this.undecodedFrames[ev.exchange] = (this.undecodedFrames[ev.exchange] ?? 0) + 1;
  }

  get sure(): boolean {
    for (const c of this.census.values()) if (c !== undefined && !c.sure) return false;
    return true;
  }

  lines(): string[] {
    return undecodedLines(this.undecodedFrames, this.decode);
  }
}
