// Estimated usage (a stream that ended before the upstream reported usage) is kept in the ledger
// and says so, in JSONL and in PostgreSQL.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { meteringSchema } from '../../src/config/metering.js';
import { createMeter, readLedger } from '../../src/metering/index.js';

const input = (requestId: string, usageEstimated: boolean) => ({
  requestId, startedAt: Date.now(), tenant: 't', route: 'r', rule: 'default', backend: 'bedrock', provider: 'aws.bedrock', kind: 'stateful' as const,
  operation: 'chat', modelRequested: 'gpt-4o', modelAnswered: 'anthropic.claude-sonnet-4-20250514-v1:0', status: 499, errorType: 'client_closed',
  errorSource: 'client' as const, durationMs: 5, stream: true, usage: { input: 120, output: 7, cacheRead: 0, cacheWrite: 0, reasoning: 0 }, usageEstimated,
});

describe('estimated usage in the ledger', () => {
  it('JSONL marks the estimated record and only it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-est-'));
    const meter = createMeter({ config: meteringSchema.parse({ ledger: { type: 'jsonl', dir } }), logger: pino({ level: 'silent' }), knownModels: [] });
    meter.record(input('est-1', true));
    meter.record(input('exact-1', false));
    await meter.close();
    const records = [];
    for await (const r of readLedger(dir)) records.push(r);
    expect(records.find((r) => r.requestId === 'est-1')).toMatchObject({ usageEstimated: true, tokens: { input: 120, output: 7 } });
    expect(records.find((r) => r.requestId === 'exact-1')!.usageEstimated).toBeUndefined();
    expect(records.find((r) => r.requestId === 'est-1')!.costUsd).toBeGreaterThan(0);
  });
});

describe('reading a --workers ledger', () => {
  it('a directory with worker-<i>/ subdirectories is read whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-workers-'));
    for (const w of [0, 1]) {
      const meter = createMeter({ config: meteringSchema.parse({ ledger: { type: 'jsonl', dir: join(dir, `worker-${w}`) } }), logger: pino({ level: 'silent' }), knownModels: [] });
      meter.record(input(`w${w}`, false));
      await meter.close();
    }
    const ids = [];
    for await (const r of readLedger(dir)) ids.push(r.requestId);
    expect(ids.sort()).toEqual(['w0', 'w1']);
  });
});
