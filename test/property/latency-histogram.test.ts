/**
 * BucketHistogram (the recorder's commit-latency histogram) gives a prom-client Registry the
 * text and the JSON that prom-client's own Histogram gives for the same observations: any
 * latencies (on the bounds, between them, past the last), any exchanges, zeroed or not.
 */
import fc from 'fast-check';
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BucketHistogram } from '../../recorder/latency-histogram.ts';

const BOUNDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const NAME = 'tapedeck_commit_latency_seconds';
const HELP = 'From an exchange event\'s arrival to its spool commit';

describe('BucketHistogram', () => {
  it('reads back as prom-client\'s Histogram does', async () => {
    const exchange = fc.constantFrom('binance', 'coinbase', 'kraken');
    const latency = fc.oneof(fc.constantFrom(0, ...BOUNDS, 2.5), fc.double({ min: 0, max: 5, noNaN: true }));
    await fc.assert(fc.asyncProperty(fc.uniqueArray(exchange), fc.array(fc.tuple(exchange, latency), { maxLength: 300 }), async (zeroed, observed) => {
      const theirs = new client.Registry();
      const ours = new client.Registry();
      const histogram = new client.Histogram({ name: NAME, help: HELP, labelNames: ['exchange'], buckets: BOUNDS, registers: [theirs] });
      const bucketed = new BucketHistogram({ name: NAME, help: HELP, labelName: 'exchange', buckets: BOUNDS, registers: [ours] });
      for (const x of zeroed) {
        histogram.zero({ exchange: x });
        bucketed.zero(x);
      }
      for (const [x, v] of observed) {
        histogram.observe({ exchange: x }, v);
        bucketed.observe(x, v);
      }
      expect(await ours.metrics()).toBe(await theirs.metrics());
      // The JSON (what the dashboard reads) but prom-client's exemplar fields, which are unset.
      const json = async (r: client.Registry): Promise<unknown> => (await r.getMetricsAsJSON()).map((m) => ({
        name: m.name, help: m.help, type: m.type, aggregator: m.aggregator,
        values: m.values.map((v) => ({ value: v.value, labels: { ...v.labels }, metricName: (v as { metricName?: string }).metricName })),
      }));
      expect(await json(ours)).toEqual(await json(theirs));
    }), { numRuns: 200 });
  });

  it('refuses a value that is not a finite number, as prom-client\'s Histogram does, and keeps what it had', async () => {
    const theirs = new client.Registry();
    const ours = new client.Registry();
    const histogram = new client.Histogram({ name: NAME, help: HELP, labelNames: ['exchange'], buckets: BOUNDS, registers: [theirs] });
    const bucketed = new BucketHistogram({ name: NAME, help: HELP, labelName: 'exchange', buckets: BOUNDS, registers: [ours] });
    histogram.observe({ exchange: 'binance' }, 0.02);
    bucketed.observe('binance', 0.02);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => histogram.observe({ exchange: 'binance' }, bad)).toThrow(TypeError);
      expect(() => bucketed.observe('binance', bad)).toThrow(TypeError);
    }
    // One refused leaves the sum and counts as they were (a NaN summed in would stay for good).
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain(`${NAME}_sum{exchange="binance"} 0.02`);
  });
});
