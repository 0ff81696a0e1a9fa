/**
 * The simulator's market and encoding alone, in this process, no sockets:
 * `node --import tsx test/bench/sim-generate.ts [events, default 2M]` generates the seeded
 * two-exchange market at about the flood's density (4 markets at a mean gap of 4,000/150,000
 * ms: ~147k events/s; the digest is tied to that gap) and encodes every event into the
 * frames its subscribers would get, three rounds, and prints µs per event and a digest of the
 * first 200k frames: the same digest before and after a change to the market or the wire
 * shapes says the frames did not change (seed 3 gives aa2e3d1c2e345959 since session 13).
 * What a flood costs before any socket, the first thing to measure when `flood-bench.ts`
 * says the simulator fell behind.
 */
import { createHash } from 'node:crypto';
import { MarketFeed } from '../../src/sim/feed.ts';
import { FrameEncoder } from '../../src/sim/frames.ts';

const events = Number(process.argv[2] ?? 2_000_000);
const RATE = 150_000;
const EXCHANGES = ['binance', 'coinbase'];

for (let round = 0; round < 3; round++) {
  // Two exchanges × two markets each, as `simulate --rate` runs them; the plain gap, not
  // meanGapForRate's (which makes exactly 150k), so that the digest stays comparable.
  const feed = new MarketFeed({ seed: 3, startMs: 1_700_000_000_000, exchanges: EXCHANGES, meanGapMs: (2 * EXCHANGES.length * 1000) / RATE }, 50_000);
  const encoder = new FrameEncoder();
  const digest = createHash('sha256');
  const t0 = performance.now();
  let n = 0;
  let chars = 0;
  let nowUs = 1_700_000_000_000 * 1000;
  while (n < events) {
    nowUs += 10_000;
    for (const e of feed.due(nowUs)) {
      const frame = encoder.encode(e);
      chars += frame.length;
      if (n < 200_000) digest.update(frame);
      n++;
    }
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`round ${round + 1}: ${n.toLocaleString('en-US')} events, ${Math.round(n / s).toLocaleString('en-US')} events/s, ${(s * 1e6 / n).toFixed(2)} µs an event, ${chars.toLocaleString('en-US')} characters; first 200k frames sha256 ${digest.digest('hex').slice(0, 16)}`);
}
