import { describe, expect, it } from 'vitest';
import { meteringSchema } from '../../src/config/metering.js';
import { readLedger } from '../../src/metering/ledger/read.js';
import type { LedgerRecord } from '../../src/metering/ledger/types.js';
import { createMeter, type MeterRecordInput } from '../../src/metering/meter.js';
import { createMetrics } from '../../src/metering/metrics.js';
import { spyLogger, tempDir } from './helpers.js';

const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';
const input = (over: Partial<MeterRecordInput> = {}): MeterRecordInput => ({
  requestId: 'req-1',
  startedAt: new Date('2026-11-25T12:00:00.123Z'),
  tenant: 'acme',
  route: 'sessions',
  rule: 'has-session',
  backend: 'bedrock',
  provider: 'aws.bedrock',
  kind: 'stateful',
  operation: 'chat',
  modelRequested: 'claude',
  modelAnswered: `us.${SONNET}`,
  usage: { input: 100, output: 300, cacheRead: 10000, cacheWrite: 2000, reasoning: 40 },
  status: 200,
  durationMs: 2345.6,
  ttftMs: 410,
  upstreamMs: 2300,
  sessionId: 'session-abc',
  stream: true,
  ...over,
});

const collect = async (dir: string) => {
  const out: LedgerRecord[] = [];
  for await (const r of readLedger(dir)) out.push(r);
  return out;
};

describe('meter', () => {
  it('writes one complete ledger record per request, flushed on close()', async () => {
    const dir = tempDir();
    const config = meteringSchema.parse({ equivalents: { 'gpt-4o': SONNET }, ledger: { type: 'jsonl', dir } });
    const meter = createMeter({ config, logger: spyLogger(), knownModels: [] });
    meter.record(input());
    meter.record(input({ requestId: 'req-2', sessionId: undefined, kind: 'stateless', backend: 'azure', provider: 'azure.ai.openai', modelAnswered: 'gpt-4o-2024-08-06', usage: { input: 1000, output: 500, cacheRead: 2000, cacheWrite: 0, reasoning: 0 }, stream: false, ttftMs: undefined }));
    meter.record(input({ requestId: 'req-3', status: 502, errorType: 'ModelErrorException', usage: undefined, modelAnswered: undefined, upstreamMs: undefined }));
    await meter.close();
    const records = await collect(dir);
    expect(records).toHaveLength(3);
    expect(records[0]).toEqual({
      requestId: 'req-1',
      time: '2026-11-25T12:00:00.123Z',
      tenant: 'acme',
      route: 'sessions',
      rule: 'has-session',
      backend: 'bedrock',
      provider: 'aws.bedrock',
      kind: 'stateful',
      operation: 'chat',
      modelRequested: 'claude',
      modelAnswered: `us.${SONNET}`,
      stream: true,
      tokens: { input: 100, output: 300, cacheRead: 10000, cacheWrite: 2000, reasoning: 40 },
      costUsd: 0.0153,
      counterfactualCostUsd: 0.03325,
      counterfactualModel: 'gpt-4o',
      latencyMs: 2345.6,
      ttftMs: 410,
      upstreamMs: 2300,
      status: 200,
      errorType: null,
      sessionHash: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(records[1]).toMatchObject({ costUsd: 0.01, counterfactualCostUsd: 0.0111, counterfactualModel: SONNET, sessionHash: null, ttftMs: null });
    // nothing produced upstream: nothing billed
    expect(records[2]).toMatchObject({ status: 502, errorType: 'ModelErrorException', modelAnswered: null, costUsd: 0, counterfactualCostUsd: 0, tokens: { input: 0, output: 0 } });
  });

  it('keeps times to the microsecond: the timer noise below it does not reach the ledger', () => {
    const records: LedgerRecord[] = [];
    const ledger = { write: (r: LedgerRecord) => void records.push(r), queueDepth: () => 0, flush: async () => {}, close: async () => {} };
    const meter = createMeter({ config: meteringSchema.parse({ ledger: { type: 'none' } }), logger: spyLogger(), knownModels: [], ledger });
    meter.record(input({ durationMs: 8.219778999999107, ttftMs: 3.0004999, upstreamMs: 0.1 + 0.2 }));
    meter.record(input({ durationMs: Number.NaN, ttftMs: undefined, upstreamMs: undefined }));
    expect(records[0]).toMatchObject({ latencyMs: 8.22, ttftMs: 3, upstreamMs: 0.3 });
    expect(JSON.stringify(records[0])).toContain('"latencyMs":8.22,"ttftMs":3,"upstreamMs":0.3,');
    expect(JSON.parse(JSON.stringify(records[1]))).toMatchObject({ latencyMs: null, ttftMs: null, upstreamMs: null });
  });

  it('a metrics failure does not lose the ledger record', async () => {
    const records: LedgerRecord[] = [];
    const logger = spyLogger();
    const metrics = createMetrics({ knownModels: [], collectDefault: false });
    const broken = {
      ...metrics,
      observeRequest: () => {
        throw new Error('label explosion');
      },
    };
    const meter = createMeter({
      config: meteringSchema.parse({ ledger: { type: 'none' } }),
      logger,
      knownModels: [],
      metrics: broken,
      ledger: { write: (r) => void records.push(r), flush: async () => {}, close: async () => {}, queueDepth: () => 0 },
    });
    expect(meter.record(input())).toBeDefined();
    meter.record(input({ requestId: 'req-2', startedAt: Number.NaN }));
    expect(records.map((r) => r.requestId)).toEqual(['req-1', 'req-2']);
    expect(Date.parse(records[1]!.time)).toBeGreaterThan(Date.parse('2026-01-01'));
    expect(logger.errors.length).toBe(2);
  });

  it('hashes session ids per tenant and salt, never storing them', () => {
    const mk = (salt: string) => createMeter({ config: meteringSchema.parse({ sessionHashSalt: salt, ledger: { type: 'none' } }), logger: spyLogger(), knownModels: [] });
    const a = mk('s1');
    const h1 = a.record(input())!.sessionHash;
    expect(a.record(input())!.sessionHash).toBe(h1);
    expect(a.record(input({ tenant: 'other' }))!.sessionHash).not.toBe(h1);
    expect(mk('s2').record(input())!.sessionHash).not.toBe(h1);
    expect(JSON.stringify(a.record(input()))).not.toContain('session-abc');
  });

  it('counts spills in the metrics when the ledger queue is full', async () => {
    const dir = tempDir();
    const config = meteringSchema.parse({ ledger: { type: 'jsonl', dir, maxQueue: 2, flushIntervalMs: 500 } });
    const meter = createMeter({ config, logger: spyLogger(), knownModels: [] });
    for (let i = 0; i < 5; i++) meter.record(input({ requestId: `q${i}` }));
    const text = await meter.metrics.metrics();
    expect(text).toMatch(/^stateroute_ledger_spilled_total 3$/m);
    expect(text).toMatch(/^stateroute_ledger_queue_depth 2$/m);
    await meter.close();
    expect((await collect(dir)).map((r) => r.requestId).sort()).toEqual(['q0', 'q1', 'q2', 'q3', 'q4']);
  });

  it('reconfigure() applies new prices and equivalents', async () => {
    const meter = createMeter({ config: meteringSchema.parse({ ledger: { type: 'none' } }), logger: spyLogger(), knownModels: [] });
    expect(meter.record(input({ modelAnswered: 'house-model' }))!.costUsd).toBeNull();
    meter.reconfigure({ config: meteringSchema.parse({ prices: { 'house-model': { input: 1, output: 2 } }, equivalents: { 'gpt-4o': 'house-model' }, ledger: { type: 'none' } }), knownModels: [] });
    // (100 + 10000 + 2000)·1 + 300·2 = 12700 µ$ ; counterfactual on gpt-4o: 12100·2.5 + 300·10 = 33250 µ$
    expect(meter.record(input({ modelAnswered: 'house-model' }))).toMatchObject({ costUsd: 0.0127, counterfactualCostUsd: 0.03325 });
    expect(await meter.metrics.metrics()).toContain('model="house-model"');
  });
});
