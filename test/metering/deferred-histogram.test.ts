// The deferred histogram against prom-client's own Histogram fed the same observations: the
// exposition text, the JSON a cluster worker sends, and the cluster aggregate must be identical.
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DeferredHistogram } from '../../src/metering/deferred-histogram.js';

const BUCKETS = [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32];
const config = { name: 'test_duration_seconds', help: 'Durations, with "quotes" and a \\ backslash.', labelNames: ['backend', 'model'], buckets: BUCKETS };

function pair() {
  const ours = new Registry();
  const theirs = new Registry();
  return { ours, theirs, deferred: new DeferredHistogram({ ...config, registers: [ours] }), reference: new Histogram({ ...config, registers: [theirs] }) };
}

/** Values on, between, below and above the bounds, with fractions whose sums depend on order. */
function* observations(n: number): Generator<[{ backend: string; model: string }, number]> {
  let x = 7;
  for (let i = 0; i < n; i++) {
    x = (x * 48271) % 2147483647;
    const labels = { backend: ['azure', 'bedrock', 'azure-eu'][x % 3]!, model: x % 5 === 0 ? 'other' : 'gpt-4o' };
    const value = i % 9 === 0 ? BUCKETS[x % BUCKETS.length]! : i % 13 === 0 ? 5 + i : (x % 1000) / 2999.7;
    yield [labels, value];
  }
}

describe('DeferredHistogram', () => {
  it('exports what prom-client\'s Histogram exports for the same observations, scrape after scrape', async () => {
    const { ours, theirs, deferred, reference } = pair();
    const stream = observations(3000);
    for (let scrape = 0; scrape < 3; scrape++) {
      for (let i = 0; i < 1000; i++) {
        const [labels, value] = stream.next().value as [{ backend: string; model: string }, number];
        deferred.observe(deferred.cell(labels), value);
        reference.observe(labels, value);
      }
      expect(await ours.metrics()).toBe(await theirs.metrics());
    }
    // prom-client adds an `exemplar` field (null: exemplars are off) that nothing downstream reads.
    const withoutExemplars = (json: unknown) => JSON.parse(JSON.stringify(json, (k, v) => (k === 'exemplar' ? undefined : v)));
    expect(await ours.getMetricsAsJSON()).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
  });

  it('a cluster primary aggregates workers exactly as it aggregates prom-client histograms', async () => {
    const workers = [pair(), pair()];
    let w = 0;
    for (const [labels, value] of observations(500)) {
      const { deferred, reference } = workers[w++ % 2]!;
      deferred.observe(deferred.cell(labels), value);
      reference.observe(labels, value);
    }
    const ours = AggregatorRegistry.aggregate(await Promise.all(workers.map((x) => x.ours.getMetricsAsJSON())));
    const theirs = AggregatorRegistry.aggregate(await Promise.all(workers.map((x) => x.theirs.getMetricsAsJSON())));
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('test_duration_seconds_count{backend="azure",model="gpt-4o"}');
  });

  it('a series exists from its first cell() on, and reset() forgets every series', async () => {
    const { ours, deferred } = pair();
    const cell = deferred.cell({ backend: 'azure', model: 'gpt-4o' });
    expect(deferred.cell({ backend: 'azure', model: 'gpt-4o' })).toBe(cell);
    expect(await ours.metrics()).toContain('test_duration_seconds_count{backend="azure",model="gpt-4o"} 0');
    deferred.reset();
    expect(await ours.metrics()).not.toContain('test_duration_seconds_count');
  });

  it('ignores values that are not finite numbers instead of throwing on the request path', async () => {
    const { ours, deferred } = pair();
    const cell = deferred.cell({ backend: 'azure', model: 'gpt-4o' });
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) deferred.observe(cell, v);
    deferred.observe(cell, 0.015);
    expect(cell).toMatchObject({ count: 1, sum: 0.015 });
    expect(await ours.metrics()).toContain('test_duration_seconds_bucket{le="0.02",backend="azure",model="gpt-4o"} 1');
  });

  it('refuses bad configuration and labels it was not declared with', () => {
    const registers: Registry[] = [];
    expect(() => new DeferredHistogram({ ...config, buckets: [], registers })).toThrow(/buckets/);
    expect(() => new DeferredHistogram({ ...config, buckets: [1, 1], registers })).toThrow(/increasing/);
    expect(() => new DeferredHistogram({ ...config, buckets: [1, Number.POSITIVE_INFINITY], registers })).toThrow(/finite/);
    expect(() => new DeferredHistogram({ ...config, labelNames: ['le'], registers })).toThrow(/reserved/);
    const h = new DeferredHistogram({ ...config, registers });
    expect(() => h.cell({ backend: 'azure', tenant: 'acme' } as never)).toThrow(/unknown label tenant/);
  });
});
