/**
 * A Prometheus histogram with one label, observed once per committed event (tens of
 * thousands a second at a flood). prom-client's Histogram checks and hashes the labels and
 * makes two objects on every observe, 1.9 % of the recorder's time at `--rate 60k`
 * (`test/bench/record-profile.ts`); this counts into a plain array per label value and gives
 * prom-client's registry the same series when it is read: `<name>_bucket{le="…",<label>="…"}`
 * (cumulative), `_bucket{le="+Inf"}`, `_sum` and `_count`.
 */
import type client from 'prom-client';

interface Series {
  /** Observations per bucket, not cumulative: counts[i] for values ≤ bounds[i] and > bounds[i-1]. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  readonly name: string;
  readonly help: string;
  private readonly label: string;
  private readonly bounds: readonly number[];

  /** Registered with each of `registers`, which read it as they read prom-client's own metrics. */
  constructor(o: { name: string; help: string; labelName: string; buckets: readonly number[]; registers?: readonly client.Registry[] }) {
    this.name = o.name;
    this.help = o.help;
    this.label = o.labelName;
    this.bounds = o.buckets;
    for (const r of o.registers ?? []) r.registerMetric(this as unknown as client.Metric);
  }

  /** The series of `value`, at zero, so that it is exported before its first observation (one observed already is kept). */
  zero(value: string): Series {
    let s = this.series.get(value);
    if (s === undefined) this.series.set(value, (s = { counts: this.bounds.map(() => 0), sum: 0, count: 0 }));
    return s;
  }

  observe(value: string, x: number): void {
    // As prom-client's: a NaN would make the sum NaN for good.
    if (!Number.isFinite(x)) throw new TypeError(`${this.name}: not a finite number: ${x}`);
    const s = this.series.get(value) ?? this.zero(value);
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (x <= bounds[i]!) {
        s.counts[i]!++;
        break;
      }
    }
    s.sum += x;
    s.count++;
  }

  /** What prom-client's Histogram.get() returns, for the registry's text and JSON. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: { value: number; labels: Record<string, string | number>; metricName: string }[] }> {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    for (const [v, s] of this.series) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ value: cumulative, labels: { le: this.bounds[i]!, [this.label]: v }, metricName: `${this.name}_bucket` });
      }
      values.push({ value: s.count, labels: { le: '+Inf', [this.label]: v }, metricName: `${this.name}_bucket` });
      values.push({ value: s.sum, labels: { [this.label]: v }, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: { [this.label]: v }, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.clear();
  }
}
