import { AggregatorRegistry, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DeferredCounter } from '../../src/metering/deferred-counter.js';

function setup() {
  const registry = new Registry();
  const counter = new DeferredCounter({ name: 'test_tokens_total', help: 'Tokens.', labelNames: ['backend', 'type'], registers: [registry] });
  return { registry, counter };
}

const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('test_tokens_total'));

describe('DeferredCounter', () => {
  it('exports exactly what was added, across scrapes, without counting a scrape twice', async () => {
    const { registry, counter } = setup();
    const input = counter.cell({ backend: 'azure', type: 'input' });
    const output = counter.cell({ backend: 'azure', type: 'output' });
    input.pending += 1000;
    output.pending += 7;
    input.pending += 24;
    expect(lines(await registry.metrics())).toEqual(['test_tokens_total{backend="azure",type="input"} 1024', 'test_tokens_total{backend="azure",type="output"} 7']);
    // A scrape with nothing new repeats the totals.
    expect(lines(await registry.metrics())).toEqual(['test_tokens_total{backend="azure",type="input"} 1024', 'test_tokens_total{backend="azure",type="output"} 7']);
    input.pending += 1;
    expect(lines(await registry.metrics())).toEqual(['test_tokens_total{backend="azure",type="input"} 1025', 'test_tokens_total{backend="azure",type="output"} 7']);
  });

  it('hands out one cell per label values, and a cell not yet added to is exported as 0', async () => {
    const { registry, counter } = setup();
    const a = counter.cell({ backend: 'bedrock', type: 'cache_read' });
    expect(counter.cell({ backend: 'bedrock', type: 'cache_read' })).toBe(a);
    expect(lines(await registry.metrics())).toEqual(['test_tokens_total{backend="bedrock",type="cache_read"} 0']);
  });

  it('large whole-number sums stay exact, however the scrapes group them', async () => {
    const { registry, counter } = setup();
    const cell = counter.cell({ backend: 'azure', type: 'input' });
    let expected = 0;
    for (let i = 0; i < 100_000; i++) {
      cell.pending += 4_000_000 + i;
      expected += 4_000_000 + i;
      if (i % 9_999 === 0) await registry.metrics();
    }
    expect(expected).toBeLessThan(Number.MAX_SAFE_INTEGER);
    expect(lines(await registry.metrics())).toEqual([`test_tokens_total{backend="azure",type="input"} ${expected}`]);
  });

  it('what a cluster worker sends the primary (getMetricsAsJSON) includes the increments, and the primary sums workers', async () => {
    const workers = [setup(), setup()];
    workers[0]!.counter.cell({ backend: 'azure', type: 'input' }).pending += 5;
    workers[1]!.counter.cell({ backend: 'azure', type: 'input' }).pending += 6;
    workers[1]!.counter.cell({ backend: 'azure', type: 'output' }).pending += 2;
    const aggregated = AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.registry.getMetricsAsJSON())));
    expect(lines(await aggregated.metrics())).toEqual(['test_tokens_total{backend="azure",type="input"} 11', 'test_tokens_total{backend="azure",type="output"} 2']);
  });
});
