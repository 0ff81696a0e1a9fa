/**
 * A recording, re-served: the archive's received frames for the served exchanges, released
 * at their recorded pace (receive time ÷ speed, from when the simulator starts), to be sent
 * to whichever connections subscribed to their stream. The recording's trades fill the trade
 * log the REST backfill endpoints serve, as they are released.
 */
import { makeDecoder } from '../../src/exchanges/registry.ts';
import type { LogEvent } from '../../src/log/event.ts';
import { planArchive, readArchive } from '../read.ts';
import { TradeLog } from './feed.ts';

export interface RecordedFrame {
  readonly exchange: string;
  readonly payload: string;
}

export class ArchiveFeed extends TradeLog {
  private i = 0;
  private t0Ns = 0n;
  private readonly decoders = new Map<string, ReturnType<typeof makeDecoder>>();

  private constructor(private readonly frames: LogEvent[], private readonly speed: number, private readonly startMs: number) {
    super();
    this.t0Ns = frames[0]?.recvNs ?? 0n;
  }

  static async load(archive: string, exchanges: readonly string[], speed: number, startMs: number): Promise<ArchiveFeed> {
    const frames: LogEvent[] = [];
    for await (const ev of readArchive(await planArchive(archive))) {
      if (ev.kind === 'frame' && exchanges.includes(ev.exchange)) frames.push(ev);
    }
    return new ArchiveFeed(frames, speed, startMs);
  }

  get size(): number {
    return this.frames.length;
  }

  get done(): boolean {
    return this.i >= this.frames.length;
  }

  *due(nowMs: number): Generator<RecordedFrame> {
    const elapsedNs = BigInt(Math.floor((nowMs - this.startMs) * this.speed * 1e6));
    while (this.i < this.frames.length && this.frames[this.i]!.recvNs - this.t0Ns <= elapsedNs) {
      const ev = this.frames[this.i++]!;
      let d = this.decoders.get(ev.exchange);
      if (!this.decoders.has(ev.exchange)) this.decoders.set(ev.exchange, (d = makeDecoder(ev.exchange)));
      for (const m of d?.decode(ev) ?? []) {
        if (m.type === 'trade') {
          this.add({ kind: 'trade', exchange: m.exchange, symbol: m.symbol, tradeId: Number(m.tradeId), price: m.price, size: m.size, side: m.side, tsUs: m.tsUs });
        }
      }
      yield { exchange: ev.exchange, payload: ev.payload };
    }
  }
}
