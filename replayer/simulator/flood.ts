/**
 * Flood mode (`simulate --rate 150k`): the synthetic market at a target total frame rate,
 * so that benchmarks measure tapedeck and not the generator.
 *
 * - The rate sets the market's mean gap (events per market per second × markets = rate), so
 *   exchange time still tracks wall time and every frame is the normal mode's wire shape.
 * - Each pump round encodes what is due once (not once per connection), then sends it to
 *   each connection as one corked batch: one `writev` per connection per round.
 * - Backpressure: a connection whose unsent bytes (ws `bufferedAmount`) pass `FLOOD_BACKLOG_BYTES`
 *   is skipped until it drains. The frames it missed are counted per exchange (`dropped`) and
 *   are a gap the recorder sees as missing trade ids (and sequence numbers), which it
 *   backfills over REST. The simulator's memory stays bounded whatever the client does.
 * - The trade log behind REST backfill keeps only the newest `FLOOD_KEEP_TRADES`–2× that
 *   per market (a flood makes ~13k trades a second per market).
 */
import type { SimEvent } from '../../src/sim/market.ts';
import type { FloodTally, SimConnection } from '../../src/sim/connection.ts';

/** Unsent bytes a connection may hold before the flood skips it. */
export const FLOOD_BACKLOG_BYTES = 4 * 1024 * 1024;
/** Trades kept per market for REST backfill in flood mode (at most twice this). */
export const FLOOD_KEEP_TRADES = 50_000;

/** What a flood has done so far, per exchange. */
export interface FloodStats {
  /** Frames handed to sockets (every connection counted). */
  readonly sent: Record<string, number>;
  /** Frames a slow connection missed (skipped while its backlog was over the cap). */
  readonly dropped: Record<string, number>;
  /** How far the market's release is behind wall time now, ms (0: keeping up). */
  readonly lagMs: number;
  /** The largest backlog any connection has held, bytes. */
  readonly peakBacklogBytes: number;
}

/** Each exchange's counters, which its connections add to. */
export class FloodTallies {
  private readonly byExchange: Map<string, FloodTally>;

  constructor(exchanges: readonly string[]) {
    this.byExchange = new Map(exchanges.map((x) => [x, { sent: 0, dropped: 0, peakBacklogBytes: 0 }]));
  }

  of(exchange: string): FloodTally {
    return this.byExchange.get(exchange)!;
  }

  stats(lagMs: number): FloodStats {
    const all = [...this.byExchange];
    return {
      sent: Object.fromEntries(all.map(([x, t]) => [x, t.sent])),
      dropped: Object.fromEntries(all.map(([x, t]) => [x, t.dropped])),
      peakBacklogBytes: Math.max(0, ...all.map(([, t]) => t.peakBacklogBytes)),
      lagMs,
    };
  }
}

/**
 * The market's mean gap option (ms) that makes `rate` frames a second across `markets`
 * markets. The market draws each gap as 1 µs + ⌊an exponential draw of that mean⌋
 * (src/sim/market.ts), whose expectation is 1 + 1/(e^(1/m) − 1) µs for a mean of m µs; this
 * solves that for the wanted gap T = markets / rate (the plain T gave ~2 % fewer frames at 150k).
 */
export function meanGapForRate(rate: number, markets: number): number {
  const wantUs = (markets * 1e6) / rate;
  return wantUs > 1 ? 1 / Math.log(wantUs / (wantUs - 1)) / 1000 : Number.MIN_VALUE;
}

/** `150k`, `1.5m`, `20000`: frames per second. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  const rate = m ? Number(m[1]) * ({ '': 1, k: 1e3, m: 1e6 }[m[2]!.toLowerCase()] ?? 1) : Number.NaN;
  if (!(rate >= 1)) throw new Error(`bad --rate ${JSON.stringify(text)} (frames per second, e.g. 150k)`);
  return rate;
}

/** Sends one round's due events, encoded once, to every connection of their exchange, one corked batch each. */
export function sendRound(events: readonly SimEvent[], payloads: readonly string[], conns: Iterable<SimConnection>): void {
  for (const c of conns) {
    c.batch(() => {
      for (let i = 0; i < events.length; i++) if (events[i]!.exchange === c.exchange) c.onMarket(events[i]!, payloads[i]!);
    });
  }
}
