/**
 * `tapedeck_live_memory_bytes`: what survives each full collection. Holding 64 MiB of small
 * objects (the shape of a backlog of events) shows in the heap series, and letting them go
 * shows too; a 32 MiB Buffer shows in the external series. A full collection is asked for
 * through V8's `gc` (exposed for this test only), as the collector would run one on its own.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { RecorderMetrics } from '../../recorder/metrics.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const MiB = 2 ** 20;

describe('tapedeck_live_memory_bytes', () => {
  const metrics = new RecorderMetrics();
  metrics.init(['binance']);
  afterAll(() => metrics.close());

  const afterFullCollection = async (): Promise<{ heap: number; external: number }> => {
    // Twice: an ArrayBuffer's memory is given back after the collection that found it dead,
    // so the external series shows it gone at the next one.
    for (let i = 0; i < 2; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 50)); // the observer is called after the collection
    }
    const values = (await metrics.liveMemory.get()).values;
    const of = (space: string): number => values.find((v) => v.labels.space === space)!.value;
    return { heap: of('heap'), external: of('external') };
  };

  it('follows what is held after each full collection, in the heap and outside it', async () => {
    const before = await afterFullCollection();
    let held: { seq: number; payload: string }[] | undefined = Array.from({ length: 1_000_000 }, (_, i) => ({ seq: i, payload: `frame ${i}` }));
    const holding = await afterFullCollection();
    expect(holding.heap - before.heap).toBeGreaterThan(40 * MiB);
    expect(held.length).toBe(1_000_000);
    held = undefined;
    const released = await afterFullCollection();
    expect(holding.heap - released.heap).toBeGreaterThan(40 * MiB);

    let buffer: Buffer | undefined = Buffer.alloc(32 * MiB, 1);
    const withBuffer = await afterFullCollection();
    expect(withBuffer.external - released.external).toBeGreaterThan(31 * MiB);
    expect(buffer.length).toBe(32 * MiB);
    buffer = undefined;
    const withoutBuffer = await afterFullCollection();
    expect(withBuffer.external - withoutBuffer.external).toBeGreaterThan(31 * MiB);
    expect(held ?? buffer).toBeUndefined();
  });
});
