// The hand-written ledger line (src/metering/ledger/line.ts) must be JSON.stringify's text exactly,
// for every record the meter makes and for any string or number in it; anything else falls back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { meteringSchema } from '../../src/config/metering.js';
import { isWrittenByHand, ledgerLine } from '../../src/metering/ledger/line.js';
import type { LedgerRecord } from '../../src/metering/ledger/types.js';
import { createMeter, type MeterRecordInput } from '../../src/metering/meter.js';
import { createMetrics } from '../../src/metering/metrics.js';
import { spyLogger } from './helpers.js';
import { record } from './records.js';

const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';
const stringified = (r: unknown) => `${JSON.stringify(r)}\n`;

function meterRecords(inputs: MeterRecordInput[]): LedgerRecord[] {
  const records: LedgerRecord[] = [];
  const meter = createMeter({
    config: meteringSchema.parse({ equivalents: { 'gpt-4o': SONNET }, ledger: { type: 'none' } }),
    logger: spyLogger(),
    knownModels: [],
    metrics: createMetrics({ knownModels: [], collectDefault: false }),
    ledger: { write: (r) => void records.push(r), flush: async () => {}, close: async () => {}, queueDepth: () => 0 },
  });
  for (const input of inputs) meter.record(input);
  return records;
}

// The request the fixture record describes, as the meter is given it.
const { requestId, tenant, route, rule, backend, provider, operation, modelRequested } = record();
const base: MeterRecordInput = {
  ...{ requestId, tenant, route, rule, backend, provider, operation, modelRequested, kind: 'stateless', stream: true, status: 200 },
  startedAt: Date.parse('2026-11-26T12:00:00.123Z'),
  modelAnswered: 'gpt-4o-2024-08-06',
  usage: { input: 12, output: 20, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
  durationMs: 1.2345678,
  ttftMs: 0.5,
  upstreamMs: 0.9,
};

describe('ledgerLine', () => {
  it("is JSON.stringify's text for the records the meter makes: success, error, session, estimate, unpriced, unrouted", () => {
    const records = meterRecords([
      base,
      { ...base, stream: false, ttftMs: undefined },
      { ...base, sessionId: 'sess-1', kind: 'stateful', backend: 'bedrock', modelAnswered: `us.${SONNET}` },
      { ...base, status: 502, errorType: 'upstream_stream_interrupted', usage: { input: 12, output: 3, cacheRead: 0, cacheWrite: 0, reasoning: 0 }, usageEstimated: true },
      { ...base, modelRequested: 'no-such-model', modelAnswered: 'no-such-model-v9' },
      { ...base, kind: 'none', backend: '', route: '', rule: '', usage: undefined, modelAnswered: undefined, status: 401, errorType: 'invalid_api_key', errorSource: 'gateway' },
      { ...base, usage: { input: -1, output: 0.5, cacheRead: 0, cacheWrite: 0, reasoning: 0 } },
    ]);
    expect(records).toHaveLength(7);
    expect(records.some((r) => r.usageEstimated)).toBe(true);
    expect(records.some((r) => r.costUsd === null)).toBe(true);
    expect(records.some((r) => r.sessionHash !== null)).toBe(true);
    for (const r of records) {
      // Written by hand, not by the fallback: a field the meter gained and line.ts did not would fail here.
      expect(isWrittenByHand(r)).toBe(true);
      expect(ledgerLine(r)).toBe(stringified(r));
    }
  });

  it('writes any string and number as JSON.stringify does (quotes, controls, lone surrogates; NaN, Infinity, -0, exponents)', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\u2028', '\ud800', 'a"b\\c\n\t\u0000'));
    const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 1e21, 5e-324));
    const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
    fc.assert(
      fc.property(
        fc.record({
          requestId: text, time: text, tenant: text, route: text, rule: text, backend: text, provider: text, kind: text, operation: text,
          modelRequested: text, modelAnswered: nullable(text), stream: fc.boolean(),
          tokens: fc.record({ input: number, output: number, cacheRead: number, cacheWrite: number, reasoning: number }),
          costUsd: nullable(number), counterfactualCostUsd: nullable(number), counterfactualModel: nullable(text), latencyMs: number,
          ttftMs: nullable(number), upstreamMs: nullable(number), status: number, errorType: nullable(text), sessionHash: nullable(text),
        }),
        fc.boolean(),
        (fields, estimated) => {
          const r = { ...fields, ...(estimated ? { usageEstimated: true as const } : {}) } as LedgerRecord;
          const line = ledgerLine(r);
          expect(line).toBe(stringified(r));
          // Twice: the second time the repeated strings come from the kept encodings.
          expect(ledgerLine(r)).toBe(line);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('more distinct model names than it keeps encodings for are still written right', () => {
    for (let i = 0; i < 1500; i++) {
      const r = record({ modelRequested: `model-"${i}"`, tenant: `tenant\\${i}` });
      expect(ledgerLine(r)).toBe(stringified(r));
    }
  });

  it("a record of another shape is JSON.stringify's: an extra field is kept, another key order, a missing or mistyped field", () => {
    const extra = { ...record(), addedLater: 'kept' } as LedgerRecord;
    expect(isWrittenByHand(extra)).toBe(false);
    expect(ledgerLine(extra)).toBe(stringified(extra));
    expect(ledgerLine(extra)).toContain('"addedLater":"kept"');
    const { requestId, ...rest } = record();
    const reordered = { ...rest, requestId } as LedgerRecord;
    expect(ledgerLine(reordered)).toBe(stringified(reordered));
    const missing = { ...record() } as Partial<LedgerRecord>;
    delete missing.upstreamMs;
    expect(ledgerLine(missing as LedgerRecord)).toBe(stringified(missing));
    const mistyped = { ...record(), status: '200' } as unknown as LedgerRecord;
    expect(ledgerLine(mistyped)).toBe(stringified(mistyped));
    const tokensReordered = { ...record(), tokens: { output: 1, input: 2, cacheRead: 0, cacheWrite: 0, reasoning: 0 } };
    expect(ledgerLine(tokensReordered)).toBe(stringified(tokensReordered));
  });
});
