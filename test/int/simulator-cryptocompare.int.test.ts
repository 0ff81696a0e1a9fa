/**
 * The simulator speaks CryptoCompare's streamer v2 (protocols.md §5b, the published spec:
 * it is the only peer the adapter has met), checked with a plain WebSocket client over
 * loopback: the key it wants, the welcome, `SubAdd` with the 20 replayed trades and the
 * current top of book, its acks and errors, several markets on one socket, `SubRemove`,
 * heartbeats and `FORCE_DISCONNECT`; every frame it sends decodes with no error; and a
 * re-served recording plays each subscription's recorded frames byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../replayer/simulator/server.ts';
import { makeDecoder } from '../../src/exchanges/registry.ts';
import { readArchiveEvents, sleep, tmpDir } from '../helpers.ts';
import { writeSimulatedArchive } from '../../src/cli/demo.ts';
import { connect } from './ws-client.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ exchanges: ['cryptocompare'], seed: 4, meanGapMs: 30, protocols: { cryptocompare: { heartbeatMs: 300 } } });
  // Let each market trade more than a subscribe replays.
  await sleep(3_000);
});
afterAll(async () => sim.close());

describe('simulated CryptoCompare streamer', () => {
  it('wants an api_key: 401 and a close without one', async () => {
    const c = await connect(sim.wsUrl('cryptocompare'));
    expect(await c.closed).toBe(1008);
    expect(c.parsed()).toMatchObject([{ TYPE: '401', MESSAGE: 'UNAUTHORIZED' }]);
  });

  it('welcomes, replays 20 trades per trade subscription, acks each, serves several markets on one socket, and refuses what it cannot serve', async () => {
    const c = await connect(`${sim.wsUrl('cryptocompare')}?api_key=k`);
    c.ws.send(JSON.stringify({ action: 'SubAdd', subs: ['0~Kraken~BTC~USD', '0~Coinbase~BTC~USD', '30~Bitstamp~ETH~USD', '0~Nowhere~BTC~USD'] }));
    c.ws.send(JSON.stringify({ action: 'SubAdd', subs: ['0~Kraken~BTC~USD'] }));
    c.ws.send('not json');
    await sleep(1_000);
    const m = c.parsed();
    expect(m[0]).toMatchObject({ TYPE: '20', MESSAGE: 'STREAMERWELCOME' });
    // The replayed trades come before their subscription's ack.
    const ack = m.findIndex((f) => f.TYPE === '16' && f.SUB === '0~Kraken~BTC~USD');
    expect(m.slice(1, ack).every((f) => f.TYPE === '0' && f.M === 'Kraken')).toBe(true);
    expect(ack - 1).toBe(20);
    expect(m.filter((f) => f.TYPE === '16').map((f) => f.SUB)).toEqual(['0~Kraken~BTC~USD', '0~Coinbase~BTC~USD', '30~Bitstamp~ETH~USD']);
    expect(m.filter((f) => f.TYPE === '500').map((f) => f.MESSAGE)).toEqual(['INVALID_SUB', 'SUBSCRIPTION_ALREADY_ACTIVE', 'INVALID_JSON']);
    expect(m.filter((f) => f.TYPE === '3')).toHaveLength(2);
    expect(new Set(m.filter((f) => f.TYPE === '0' || f.TYPE === '30').map((f) => `${String(f.TYPE)}~${String(f.M)}~${String(f.FSYM)}`)))
      .toEqual(new Set(['0~Kraken~BTC', '0~Coinbase~BTC', '30~Bitstamp~ETH']));
    expect(m.some((f) => f.TYPE === '999'), 'a heartbeat every heartbeatMs').toBe(true);
    // Everything it sent reads as the adapter reads the spec.
    const decoder = makeDecoder('cryptocompare')!;
    const out = c.frames.flatMap((payload, ingestSeq) => decoder.decode({ session: 's', ingestSeq, recvNs: BigInt(Date.now()) * 1_000_000n, exchange: 'cryptocompare', conn: 'c', kind: 'frame', payload, meta: '' }));
    expect(decoder.counts.errors).toBe(0);
    expect(decoder.counts.unknown).toEqual({});
    expect(out.filter((e) => e.type === 'quote').length).toBeGreaterThan(0);
    c.ws.send(JSON.stringify({ action: 'SubRemove', subs: ['0~Kraken~BTC~USD'] }));
    await sleep(300);
    const n = c.frames.length;
    await sleep(700);
    expect(c.parsed().slice(n).filter((f) => f.TYPE === '0' && f.M === 'Kraken'), 'no Kraken trades after SubRemove').toEqual([]);
    expect(c.frames).toContain('{"TYPE":"17","MESSAGE":"UNSUBSCRIBECOMPLETE","SUB":"0~Kraken~BTC~USD"}');
    c.ws.close();
  });

  it('says FORCE_DISCONNECT on a shutdown, then closes', async () => {
    const c = await connect(`${sim.wsUrl('cryptocompare')}?api_key=k`);
    sim.control({ action: 'disconnect', exchange: 'cryptocompare', mode: 'shutdown' });
    expect(await c.closed).toBe(1001);
    expect(c.parsed().at(-1)).toMatchObject({ TYPE: '500', MESSAGE: 'FORCE_DISCONNECT' });
  });
});

describe('a re-served recording of CryptoCompare', () => {
  it('plays each subscription\'s recorded frames byte for byte, in order, and refuses what the recording lacks', async () => {
    const dir = tmpDir();
    writeSimulatedArchive(dir, { seed: 3, startMs: Date.UTC(2024, 7, 9), minutes: 0.2, exchanges: ['cryptocompare'] });
    const frames = (await readArchiveEvents(dir)).filter((e) => e.kind === 'frame');
    const s = await startSimulator({ exchanges: ['cryptocompare'], seed: 1, from: dir, speed: 50 });
    try {
      const c = await connect(`${s.wsUrl('cryptocompare')}/v2?api_key=k`);
      c.ws.send(JSON.stringify({ action: 'SubAdd', subs: ['0~Kraken~ETH~USD', '30~Coinbase~BTC~USD', '0~Gemini~BTC~USD'] }));
      await sleep(1_500);
      const want = (prefix: string): string[] => {
        const w = frames.filter((f) => f.payload.startsWith(prefix)).map((f) => f.payload);
        expect(w.length, `the recording holds ${prefix}`).toBeGreaterThan(5);
        return w;
      };
      expect(c.frames.filter((f) => f.startsWith('{"TYPE":"0"'))).toEqual(want('{"TYPE":"0","M":"Kraken","FSYM":"ETH"'));
      expect(c.frames.filter((f) => f.startsWith('{"TYPE":"30"'))).toEqual(want('{"TYPE":"30","M":"Coinbase","FSYM":"BTC"'));
      expect(c.parsed().filter((f) => f.TYPE === '500').map((f) => f.PARAMETER)).toEqual(['0~Gemini~BTC~USD']);
      c.ws.close();
    } finally {
      await s.close();
    }
  });
});
