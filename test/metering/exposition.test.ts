// What the meter exports and records for a fixed sequence of requests, compared to files recorded
// before metering was optimised: the exposition (scraped three times) and the ledger records must
// stay byte for byte the same — names, labels, values, float sums, series order, costs.
import { describe, expect, it } from 'vitest';
import { meteringSchema } from '../../src/config/metering.js';
import type { LedgerSink } from '../../src/metering/ledger/types.js';
import { createMeter, type MeterRecordInput } from '../../src/metering/meter.js';
import { createMetrics } from '../../src/metering/metrics.js';
import { spyLogger } from './helpers.js';

const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';
function memoryLedger(): LedgerSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (r) => void lines.push(JSON.stringify(r)), flush: async () => {}, close: async () => {}, queueDepth: () => 0 };
}

/** Request i of the sequence: stateless and stateful, streamed or not, errors, unknown models, odd durations. */
function request(i: number): MeterRecordInput {
  const stateful = i % 3 === 1;
  const base: MeterRecordInput = {
    requestId: `r${i}`,
    startedAt: Date.UTC(2026, 10, 25, 12, 0, 0, i),
    tenant: i % 2 ? 'acme' : 'globex',
    route: stateful ? 'sessions' : 'chat',
    rule: stateful ? 'has-session' : 'default',
    backend: stateful ? 'bedrock' : i % 10 === 0 ? 'azure-eu' : 'azure',
    provider: stateful ? 'aws.bedrock' : 'azure.ai.openai',
    kind: stateful ? 'stateful' : 'stateless',
    operation: i % 7 === 3 ? 'embeddings' : 'chat',
    modelRequested: ['gpt-4o', 'gpt-4o-mini', 'gpt-4o', 'mystery'][i % 4]!,
    modelAnswered: stateful ? `us.${SONNET}` : ['gpt-4o-2024-08-06', 'gpt-4o-mini', 'gpt-4o', 'mystery-v2'][i % 4],
    usage: { input: 17 * i + 3, output: 5 * i, cacheRead: i % 4 === 2 ? 1000 + i : 0, cacheWrite: stateful ? 31 * i : 0, reasoning: i % 3 },
    status: 200,
    // Fractions that do not add up exactly in binary, so the order of additions shows in the sums.
    durationMs: 100.1 + i * 37.3,
    ttftMs: i % 2 ? 12.7 + i * 0.3 : undefined,
    upstreamMs: i % 6 === 4 ? undefined : 95.05 + i * 36.9,
    sessionId: stateful ? `s${i % 4}` : undefined,
    stream: i % 2 === 1,
  };
  if (i % 11 === 5) return { ...base, status: 502, errorType: 'server_error', usage: undefined, modelAnswered: undefined };
  if (i % 13 === 7) return { ...base, status: 499, errorType: 'client_closed', errorSource: 'client', usageEstimated: true };
  if (i % 17 === 9) return { ...base, status: 400, errorType: 'invalid_request_error', errorSource: 'gateway', kind: 'none', backend: '', provider: '', route: 'none', rule: 'none', usage: undefined, modelAnswered: undefined };
  return base;
}

describe('metering of a fixed sequence of requests', () => {
  it('exports the recorded exposition, scraped in between, and writes the recorded ledger', async () => {
    const config = meteringSchema.parse({ equivalents: { 'gpt-4o': SONNET }, ledger: { type: 'none' } });
    const metrics = createMetrics({ knownModels: ['gpt-4o', 'gpt-4o-mini', 'claude', SONNET], collectDefault: false });
    const ledger = memoryLedger();
    const meter = createMeter({ config, logger: spyLogger(), knownModels: [], metrics, ledger });
    const scrapes: string[] = [];
    const scrape = async () => void scrapes.push(await metrics.metrics());
    for (let i = 0; i < 40; i++) meter.record(request(i));
    metrics.attemptFailed({ backend: 'azure', errorType: 'server_error' });
    metrics.retry({ backend: 'azure' });
    await scrape();
    for (let i = 40; i < 90; i++) meter.record(request(i));
    metrics.fallback({ route: 'chat', from: 'azure', to: 'azure-eu' });
    await scrape();
    // A reload that prices "mystery" and knows its name: later requests change labels and cost.
    meter.reconfigure({ config: meteringSchema.parse({ ...config, prices: { mystery: { input: 0.5, output: 1.5 } } }), knownModels: ['mystery'] });
    for (let i = 90; i < 130; i++) meter.record(request(i));
    await scrape();
    // Buckets of the earlier scrapes left out to keep the file small; their _sum and _count are in.
    const withoutBuckets = (text: string) => text.split('\n').filter((l) => !/^\w+_bucket\{/.test(l)).join('\n');
    const recorded = [withoutBuckets(scrapes[0]!), withoutBuckets(scrapes[1]!), scrapes[2]!];
    await expect(recorded.join('\n==== next scrape ====\n')).toMatchFileSnapshot('./fixtures/exposition.golden.txt');
    await expect(ledger.lines.join('\n')).toMatchFileSnapshot('./fixtures/ledger.golden.jsonl');
  });
});
