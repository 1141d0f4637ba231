import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { vi } from 'vitest';
import type { LedgerRecord } from '../../src/metering/ledger/types.js';

export const PG_URL = process.env.STATEROUTE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A pino logger whose calls are recorded. */
export function spyLogger(): Logger & { warnings: unknown[][]; errors: unknown[][] } {
  const logger = pino({ level: 'silent' }) as Logger & { warnings: unknown[][]; errors: unknown[][] };
  logger.warnings = [];
  logger.errors = [];
  logger.warn = vi.fn((...args: unknown[]) => void logger.warnings.push(args)) as never;
  logger.error = vi.fn((...args: unknown[]) => void logger.errors.push(args)) as never;
  return logger;
}

export const tempDir = (prefix = 'stateroute-metering-') => mkdtempSync(join(tmpdir(), prefix));

export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export function promtoolAvailable(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

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
