/**
 * The simulated market in each exchange's own wire format, byte for byte the shapes real
 * feeds send: each exchange's encoder lives in its folder (`src/exchanges/<x>/wire.ts`,
 * behind its spec's `sim`); this keeps one per exchange, with its sequence numbers.
 */
import { simSpec } from '../exchanges/registry.ts';
import type { SimSpec } from '../exchanges/spec.ts';
import type { SimEvent } from './market.ts';

type Encoder = ReturnType<SimSpec['encoder']>;

export class FrameEncoder {
  private readonly encoders = new Map<string, Encoder>();

  /** The event as its exchange's server sends it (say, a raw stream's payload). */
  encode(e: SimEvent): string {
    return this.of(e.exchange).wire(e);
  }

  /** What a recorder subscribed as `record` does receives for `wire` (say, wrapped as a combined stream). */
  logged(e: SimEvent, wire: string): string {
    return this.of(e.exchange).logged(e, wire);
  }

  private of(exchange: string): Encoder {
    let enc = this.encoders.get(exchange);
    if (enc === undefined) this.encoders.set(exchange, (enc = simSpec(exchange).encoder()));
    return enc;
  }
}
