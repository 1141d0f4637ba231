import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { vi } from 'vitest';

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

export { record } from './records.js';
