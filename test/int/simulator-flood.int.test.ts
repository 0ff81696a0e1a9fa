/**
 * Flood mode (`simulate --rate`, flood.ts) over loopback with plain WebSocket clients: a
 * client that reads gets every frame in order (contiguous trade ids per symbol, which
 * tapedeck's own adapters decode with no gap), and a client that stops reading is skipped
 * once its backlog passes the cap: the simulator's buffer for it stays bounded, the frames
 * it missed are counted, and when it reads again its adapter sees the gap in trade ids.
 * No assertion on speed (that is `npm run bench`, flood-bench.ts).
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { makeDecoder } from '../../src/exchanges/registry.ts';
import type { MarketEvent } from '../../src/market/events.ts';
import { sleep } from '../helpers.ts';

const BINANCE_STREAMS = 'btcusdt@trade/ethusdt@trade/btcusdt@bookTicker/ethusdt@bookTicker';
const COINBASE_SUBSCRIBE = '{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["matches","ticker"]}';

let sim: Simulator | undefined;
afterEach(async () => sim?.close());

/** A client that keeps every frame it reads; `pause()` stops reading from the socket. */
function client(url: string, subscribe?: string) {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(String(d)));
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => {
      if (subscribe) ws.send(subscribe);
      resolve();
    });
    ws.on('error', reject);
  });
  return { ws, frames, opened };
}

/** Every frame through the exchange's adapter, as the recorder decodes it. */
function decode(exchange: string, frames: readonly string[]): MarketEvent[] {
  const d = makeDecoder(exchange)!;
  return frames.flatMap((payload, i) => d.decode({ session: 't', ingestSeq: i, recvNs: BigInt(i), exchange, conn: 'c', kind: 'frame', payload, meta: '' }));
}

/** Trade ids by symbol, in the order received. */
function tradeIds(events: readonly MarketEvent[]): Map<string, bigint[]> {
  const ids = new Map<string, bigint[]>();
  for (const e of events) if (e.type === 'trade') ids.set(e.symbol, [...(ids.get(e.symbol) ?? []), e.tradeId]);
  return ids;
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting until ${what}`);
    await sleep(200);
  }
}

describe('simulate --rate (flood mode)', () => {
  it('serves a reading client every frame, in order, in each exchange\'s wire shape', async () => {
    sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 7, rate: 5_000 });
    const b = client(`${sim.wsUrl('binance')}/stream?streams=${BINANCE_STREAMS}`);
    const c = client(sim.wsUrl('coinbase'), COINBASE_SUBSCRIBE);
    await Promise.all([b.opened, c.opened]);
    await until('both clients have 5,000 frames', () => b.frames.length > 5_000 && c.frames.length > 5_000);
    b.ws.close();
    c.ws.close();
    expect(sim.floodStats()!.dropped, 'clients that read miss nothing').toEqual({ binance: 0, coinbase: 0 });
    for (const [exchange, frames] of [['binance', b.frames], ['coinbase', c.frames]] as const) {
      const events = decode(exchange, frames);
      expect(events.filter((e) => e.type === 'gap'), `${exchange}: the adapter sees no gap`).toEqual([]);
      const ids = tradeIds(events);
      expect(ids.size, `${exchange}: trades of both symbols`).toBe(2);
      for (const [symbol, list] of ids) {
        expect(list.every((id, i) => i === 0 || id === list[i - 1]! + 1n), `${exchange} ${symbol}: trade ids contiguous`).toBe(true);
        // Every trade the market made between the first and last one received is there.
        const made = sim.trades(exchange).filter((t) => BigInt(t.tradeId) >= list[0]! && BigInt(t.tradeId) <= list.at(-1)! && t.symbol === symbol);
        expect(made.length, `${exchange} ${symbol}: every trade made was served`).toBe(list.length);
      }
      expect(events.some((e) => e.type === 'quote'), `${exchange}: quotes decode too`).toBe(true);
    }
  });

  it('skips a client that stops reading: its backlog stays under the cap, the drop is counted, and it shows as a gap', async () => {
    const cap = 512 * 1024;
    sim = await startSimulator({ exchanges: ['binance', 'coinbase'], seed: 8, rate: 40_000, floodBacklogBytes: cap });
    const slow = client(sim.wsUrl('coinbase'), COINBASE_SUBSCRIBE);
    await slow.opened;
    await until('the slow client has its first frames', () => slow.frames.length > 100);
    slow.ws.pause();
    // ~20,000 Coinbase frames missed: unbounded, they would be ~5 MB queued for the slow client.
    await until('the flood skips the slow client', () => sim!.floodStats()!.dropped.coinbase! > 20_000);
    const stats = sim.floodStats()!;
    // A batch is sent only when the backlog is under the cap, so it never passes the cap by more than one round's frames.
    expect(stats.peakBacklogBytes, 'backlog bounded by the cap (plus one round)').toBeLessThanOrEqual(cap + 1024 * 1024);
    expect(stats.dropped.binance, 'no Binance client, nothing missed there').toBe(0);
    // Reading again, it first drains what the kernel and the simulator held for it, in order, then meets the gap.
    slow.ws.resume();
    const gaps = (): MarketEvent[] => decode('coinbase', slow.frames).filter((e) => e.type === 'gap');
    await until('the slow client meets the gap', () => gaps().length > 0);
    slow.ws.close();
    const missing = gaps().reduce((n, g) => n + (g.type === 'gap' ? Number(g.toId - g.fromId + 1n) : 0), 0);
    expect(missing, 'the trade ids missing are among the frames counted as dropped').toBeLessThanOrEqual(sim.floodStats()!.dropped.coinbase!);
  });
});
