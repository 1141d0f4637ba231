import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { meteringSchema } from '../../src/config/metering.js';
import { createMeter, type MeterRecordInput } from '../../src/metering/meter.js';
import { createMetrics } from '../../src/metering/metrics.js';
import type { LedgerRecord, LedgerSink } from '../../src/metering/ledger/types.js';
import { promtoolAvailable, spyLogger } from './helpers.js';

const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';

function memoryLedger(): LedgerSink & { records: LedgerRecord[] } {
  const records: LedgerRecord[] = [];
  return { records, write: (r) => void records.push(r), flush: async () => {}, close: async () => {}, queueDepth: () => 7 };
}

const base: MeterRecordInput = {
  requestId: 'r1',
  startedAt: Date.parse('2026-11-25T12:00:00Z'),
  tenant: 'acme',
  route: 'chat',
  rule: 'default',
  backend: 'azure',
  provider: 'azure.ai.openai',
  kind: 'stateless',
  operation: 'chat',
  modelRequested: 'gpt-4o',
  modelAnswered: 'gpt-4o-2024-08-06',
  usage: { input: 1000, output: 500, cacheRead: 2000, cacheWrite: 0, reasoning: 0 },
  status: 200,
  durationMs: 1500,
  upstreamMs: 1490,
  stream: false,
};

function setup() {
  const config = meteringSchema.parse({ equivalents: { 'gpt-4o': SONNET }, ledger: { type: 'none' } });
  const ledger = memoryLedger();
  const logger = spyLogger();
  const meter = createMeter({ config, logger, knownModels: ['gpt-4o', 'gpt-4o-mini'], ledger });
  return { meter, ledger, logger };
}

/** The value of one sample line, by metric name and exact label subset. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics', () => {
  it('exposes OTel GenAI and stateroute series after a few records', async () => {
    const { meter, ledger } = setup();
    meter.record(base);
    meter.record({ ...base, requestId: 'r2', backend: 'bedrock', provider: 'aws.bedrock', kind: 'stateful', route: 'sessions', rule: 'has-session', modelRequested: 'gpt-4o', modelAnswered: `us.${SONNET}`, usage: { input: 100, output: 300, cacheRead: 10000, cacheWrite: 2000, reasoning: 0 }, ttftMs: 250, stream: true, sessionId: 'secret-session-id' });
    meter.record({ ...base, requestId: 'r3', status: 429, errorType: 'rate_limit_error', usage: undefined, modelAnswered: undefined });
    meter.record({ ...base, requestId: 'r4', modelRequested: 'private-llm', modelAnswered: 'private-llm-v9', usage: { input: 10, output: 10, cacheRead: 0, cacheWrite: 0, reasoning: 0 } });
    meter.metrics.retry({ backend: 'azure' });
    meter.metrics.fallback({ route: 'chat', from: 'azure', to: 'azure-eu' });
    meter.metrics.attemptFailed({ backend: 'azure', errorType: 'rate_limit_error' });
    meter.metrics.configReload('success');
    meter.metrics.setActiveSessionsSource(async () => 3);
    meter.metrics.sessionEnded(10);
    const text = await meter.metrics.metrics();

    expect(sample(text, 'stateroute_requests_total', { route: 'chat', rule: 'default', backend: 'azure', status: '200' })).toBe(2);
    expect(sample(text, 'stateroute_requests_total', { status: '429' })).toBe(1);
    expect(sample(text, 'stateroute_tokens_total', { backend: 'azure', model: 'gpt-4o', type: 'cache_read' })).toBe(2000);
    expect(sample(text, 'stateroute_tokens_total', { backend: 'bedrock', model: SONNET, type: 'cache_write' })).toBe(2000);
    // actual: 1000·2.5 + 2000·1.25 + 500·10 = $0.01; counterfactual on Sonnet: 1000·3 + 2000·0.3 + 500·15 = $0.0111
    expect(sample(text, 'stateroute_cost_usd_total', { backend: 'azure', model: 'gpt-4o', kind: 'actual' })).toBe(0.01);
    expect(sample(text, 'stateroute_cost_usd_total', { backend: 'azure', model: 'gpt-4o', kind: 'counterfactual' })).toBe(0.0111);
    expect(sample(text, 'stateroute_cost_usd_total', { backend: 'bedrock', kind: 'actual' })).toBe(0.0153);
    expect(sample(text, 'stateroute_cost_usd_total', { backend: 'bedrock', kind: 'counterfactual' })).toBe(0.03325);
    // OTel histograms: input counts every prompt token (uncached + cached)
    expect(sample(text, 'gen_ai_client_token_usage_sum', { gen_ai_token_type: 'input', gen_ai_provider_name: 'azure.ai.openai', gen_ai_response_model: 'gpt-4o' })).toBe(3000);
    expect(sample(text, 'gen_ai_client_token_usage_sum', { gen_ai_token_type: 'input', gen_ai_provider_name: 'aws.bedrock' })).toBe(12100);
    expect(sample(text, 'gen_ai_client_operation_duration_seconds_count', { error_type: 'rate_limit_error' })).toBe(1);
    expect(sample(text, 'gen_ai_client_operation_time_to_first_chunk_seconds_sum', { gen_ai_provider_name: 'aws.bedrock' })).toBe(0.25);
    expect(sample(text, 'stateroute_gateway_overhead_seconds_count', { backend: 'azure' })).toBe(3);
    expect(sample(text, 'stateroute_request_duration_seconds_sum', { backend: 'azure' })).toBe(4.5);
    expect(sample(text, 'stateroute_time_to_first_token_seconds_count', { backend: 'bedrock' })).toBe(1);
    expect(sample(text, 'stateroute_time_to_first_token_seconds_count', { backend: 'azure' })).toBeUndefined();
    expect(sample(text, 'stateroute_backend_info', { backend: 'bedrock', kind: 'stateful', provider: 'aws.bedrock' })).toBe(1);
    expect(sample(text, 'stateroute_backend_info', { backend: 'azure', kind: 'stateless' })).toBe(1);
    expect(sample(text, 'stateroute_upstream_errors_total', { backend: 'azure', error_type: 'rate_limit_error' })).toBe(2);
    expect(sample(text, 'stateroute_retries_total', { backend: 'azure' })).toBe(1);
    expect(sample(text, 'stateroute_fallbacks_total', { from: 'azure', to: 'azure-eu' })).toBe(1);
    expect(sample(text, 'stateroute_active_sessions')).toBe(3);
    expect(sample(text, 'stateroute_session_turns_count')).toBe(1);
    expect(sample(text, 'stateroute_config_reloads_total', { result: 'success' })).toBe(1);
    expect(sample(text, 'stateroute_config_reloads_total', { result: 'failure' })).toBe(0);
    expect(sample(text, 'stateroute_ledger_queue_depth')).toBe(7);
    expect(sample(text, 'stateroute_unpriced_requests_total', { model: 'other' })).toBe(1);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(ledger.records).toHaveLength(4);
  });

  it('keeps labels bounded: unknown models become "other", no session ids, tenants or request ids', async () => {
    const { meter, ledger } = setup();
    meter.record({ ...base, modelRequested: 'unlisted-a', modelAnswered: 'unlisted-a-2025-01-01' });
    meter.record({ ...base, requestId: 'r2', modelRequested: 'unlisted-b', modelAnswered: 'unlisted-b', sessionId: 'sess-1234567890' });
    const text = await meter.metrics.metrics();
    expect(text).not.toMatch(/unlisted/);
    expect(text).not.toContain('sess-1234567890');
    expect(text).not.toContain('acme');
    expect(text).not.toContain('"r2"');
    expect(sample(text, 'stateroute_tokens_total', { model: 'other', type: 'input' })).toBe(2000);
    expect(sample(text, 'gen_ai_client_token_usage_count', { gen_ai_request_model: 'other', gen_ai_token_type: 'output' })).toBe(2);
    // the session id is only in the ledger, hashed
    expect(ledger.records[1]!.sessionHash).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(ledger.records)).not.toContain('sess-1234567890');
  });

  it('counts only upstream failures as upstream errors; a failing session count does not break /metrics', async () => {
    const { meter } = setup();
    meter.record({ ...base, status: 502, errorType: 'server_error' });
    meter.record({ ...base, requestId: 'r2', status: 499, errorType: 'client_closed', errorSource: 'client' });
    meter.record({ ...base, requestId: 'r3', status: 400, errorType: 'invalid_request_error', errorSource: 'gateway' });
    let n = 0;
    meter.metrics.setActiveSessionsSource(() => {
      if (++n > 1) throw new Error('redis down');
      return 5;
    });
    await meter.metrics.metrics();
    const text = await meter.metrics.metrics();
    expect(sample(text, 'stateroute_active_sessions')).toBe(5);
    expect(text.split('\n').filter((l) => l.startsWith('stateroute_upstream_errors_total{'))).toEqual(['stateroute_upstream_errors_total{backend="azure",error_type="server_error"} 1']);
    expect(sample(text, 'gen_ai_client_operation_duration_seconds_count', { error_type: 'client_closed' })).toBe(1);
  });

  it('caps free-form label values', async () => {
    const metrics = createMetrics({ knownModels: [], collectDefault: false });
    for (let i = 0; i < 300; i++) metrics.attemptFailed({ backend: 'azure', errorType: `Error${i}` });
    metrics.attemptFailed({ backend: 'azure', errorType: 'bad label\nvalue"' });
    const text = await metrics.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('stateroute_upstream_errors_total{'));
    expect(series.length).toBe(101); // 100 distinct values, then "other"
    expect(sample(text, 'stateroute_upstream_errors_total', { error_type: 'other' })).toBe(201);
  });

  it('keeps the exported cost total exact over many records', async () => {
    const { meter } = setup();
    // gpt-4o-mini: 1·0.165 + 1·0.66 = 0.825 µ$; ×10 000 = $0.00825
    for (let i = 0; i < 10_000; i++) meter.record({ ...base, requestId: `m${i}`, modelRequested: 'gpt-4o-mini', modelAnswered: 'gpt-4o-mini', usage: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, reasoning: 0 } });
    expect(sample(await meter.metrics.metrics(), 'stateroute_cost_usd_total', { model: 'gpt-4o-mini', kind: 'actual' })).toBe(0.00825);
  });

  it('counts stay exact when the per-combination cache is emptied at its bound (50 000 combinations)', async () => {
    const metrics = createMetrics({ knownModels: ['gpt-4o'], collectDefault: false });
    const usage = { input: 3, output: 2, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
    const cost = { actual: 1_000_000n, counterfactual: 3n };
    const observe = (route: string, rule: string) => metrics.observeRequest({ ...base, route, rule }, usage, cost);
    observe('r0', 'x0');
    // 200 routes × 251 rules: past the cache's bound, so it is emptied once on the way.
    for (let r = 0; r < 200; r++) for (let x = 0; x < 251; x++) observe(`r${r}`, `x${x}`);
    observe('r0', 'x0');
    const text = await metrics.metrics();
    expect(sample(text, 'stateroute_requests_total', { route: 'r0', rule: 'x0' })).toBe(3);
    expect(sample(text, 'stateroute_requests_total', { route: 'r199', rule: 'x250' })).toBe(1);
    expect(text.split('\n').filter((l) => l.startsWith('stateroute_requests_total{')).length).toBe(200 * 251);
    expect(sample(text, 'stateroute_tokens_total', { type: 'input' })).toBe(3 * (200 * 251 + 2));
    // 50 202 requests × $0.000001 and × $0.000000000003, summed exactly
    expect(sample(text, 'stateroute_cost_usd_total', { kind: 'actual' })).toBe(0.050202);
    expect(sample(text, 'stateroute_cost_usd_total', { kind: 'counterfactual' })).toBe(1.50606e-7);
  });

  it('record() never throws into the request path', () => {
    const { meter, logger } = setup();
    // invalid usage from a buggy backend: the request is still recorded, its cost unknown
    const rec = meter.record({ ...base, usage: { input: -5, output: 1.5, cacheRead: 0, cacheWrite: 0, reasoning: 0 } });
    expect(rec).toMatchObject({ costUsd: null, counterfactualCostUsd: null, tokens: { input: 0, output: 0 } });
    expect(meter.record(undefined as never)).toBeUndefined();
    expect(logger.errors.length).toBe(2);
  });

  it('unpriced model: tokens counted, cost null in the ledger and absent from the cost counter', async () => {
    const { meter, ledger, logger } = setup();
    const rec = meter.record({ ...base, modelRequested: 'mystery', modelAnswered: 'mystery' });
    meter.record({ ...base, requestId: 'r2', modelRequested: 'mystery', modelAnswered: 'mystery' });
    expect(rec?.costUsd).toBeNull();
    expect(rec?.counterfactualCostUsd).toBeNull();
    expect(ledger.records[0]!.tokens.input).toBe(1000);
    expect(logger.warnings.length).toBe(1);
    const text = await meter.metrics.metrics();
    expect(sample(text, 'stateroute_cost_usd_total', { model: 'other' })).toBeUndefined();
    expect(sample(text, 'stateroute_unpriced_requests_total', { model: 'other' })).toBe(2);
  });

  it('promtool check metrics is clean', async (ctx) => {
    if (!promtoolAvailable()) {
      if (process.env.CI) throw new Error('promtool is not installed (CI must install Debian package "prometheus")');
      console.warn('SKIPPED: promtool check metrics — promtool is not installed (apt-get install prometheus)');
      ctx.skip();
    }
    const { meter } = setup();
    meter.record(base);
    meter.record({ ...base, requestId: 'r2', status: 502, errorType: 'server_error', ttftMs: 100 });
    meter.metrics.setActiveSessionsSource(() => 1);
    meter.metrics.sessionEnded(3);
    const text = await meter.metrics.metrics();
    const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(res.stdout + res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});
