// Ledger record fixtures, free of vitest so the child-process fixtures can use them too.
import type { LedgerRecord } from '../../src/metering/ledger/types.js';

let seq = 0;
export function record(overrides: Partial<LedgerRecord> = {}): LedgerRecord {
  seq++;
  return {
    requestId: `req-${process.pid}-${seq}`,
    time: '2026-11-25T12:00:00.000Z',
    tenant: 'acme',
    route: 'chat',
    rule: 'default',
    backend: 'azure',
    provider: 'azure.ai.openai',
    kind: 'stateless',
    operation: 'chat',
    modelRequested: 'gpt-4o',
    modelAnswered: 'gpt-4o-2024-08-06',
    stream: false,
    tokens: { input: 100, output: 50, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
    costUsd: 0.00075,
    counterfactualCostUsd: 0.00105,
    counterfactualModel: 'anthropic.claude-sonnet-4-20250514-v1:0',
    latencyMs: 120,
    ttftMs: null,
    upstreamMs: 110,
    status: 200,
    errorType: null,
    sessionHash: null,
    ...overrides,
  };
}
