import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSince, reportCommand, reportMain, type ReportOptions } from '../../src/cli/report.js';
import type { LedgerRecord } from '../../src/metering/ledger/types.js';
import { record, tempDir } from './helpers.js';

const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';
const NOW = Date.parse('2026-11-25T18:00:00Z');
const tokens = (t: Partial<LedgerRecord['tokens']>) => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0, ...t });

// Hand-computed (see prices.test.ts for the formulas).
const r1 = record({ requestId: 'r1', tenant: 'acme', route: 'chat', backend: 'azure', modelAnswered: 'gpt-4o-2024-08-06', tokens: tokens({ input: 1000, cacheRead: 2000, output: 500 }), costUsd: 0.01, counterfactualCostUsd: 0.0111 });
const r2 = record({ requestId: 'r2', tenant: 'beta', route: 'chat', backend: 'azure', modelRequested: 'gpt-4o-mini', modelAnswered: 'gpt-4o-mini', tokens: tokens({ input: 1234, output: 567 }), costUsd: 0.00057783, counterfactualCostUsd: null, counterfactualModel: null });
const r3 = record({ requestId: 'r3', tenant: 'acme', route: 'sessions', backend: 'bedrock', kind: 'stateful', modelAnswered: `us.${SONNET}`, tokens: tokens({ input: 100, cacheRead: 10000, cacheWrite: 2000, output: 300 }), costUsd: 0.0153, counterfactualCostUsd: 0.03325, counterfactualModel: 'gpt-4o' });
const r4 = record({ requestId: 'r4', tenant: 'beta', route: 'sessions', backend: 'bedrock', kind: 'stateful', modelRequested: 'mystery', modelAnswered: 'mystery', tokens: tokens({ input: 10, output: 10 }), costUsd: null, counterfactualCostUsd: null });
const r5 = record({ requestId: 'r5', tenant: 'acme', route: 'chat', backend: 'azure', modelAnswered: null, status: 429, errorType: 'rate_limit_error', tokens: tokens({}), costUsd: 0, counterfactualCostUsd: 0 });
const old = record({ requestId: 'old', time: '2026-11-20T00:00:00.000Z', costUsd: 1, counterfactualCostUsd: 2 });

function fixture(): string {
  const dir = tempDir('stateroute-report-');
  mkdirSync(dir, { recursive: true });
  const line = (r: LedgerRecord) => JSON.stringify(r) + '\n';
  writeFileSync(join(dir, 'usage-2026-11-20.jsonl'), line(old));
  writeFileSync(join(dir, 'usage-2026-11-25.jsonl'), line(r1) + line(r2) + line(r3));
  writeFileSync(join(dir, 'usage-2026-11-25.1.jsonl'), line(r4) + line(r5) + JSON.stringify(r1).slice(0, 30)); // torn last line
  writeFileSync(join(dir, 'spill-2026-11-25.jsonl'), line(r1)); // spilled and also written: counted once
  writeFileSync(join(dir, 'notes.txt'), 'not a ledger file\n');
  return dir;
}

function sink(isTTY = false) {
  let text = '';
  return { write: (s: string) => void (text += s), isTTY, text: () => text };
}

async function run(options: Partial<ReportOptions> & { ledger: string }) {
  const out = sink();
  const err = sink();
  const code = await reportCommand({ since: '24h', now: () => NOW, out, err, ...options });
  return { code, out: out.text(), err: err.text() };
}

describe('report', () => {
  it('json: per-backend groups and totals, exact money', async () => {
    const { code, out, err } = await run({ ledger: fixture(), format: 'json' });
    expect(code).toBe(0);
    expect(err).toMatch(/skipped 1 unreadable line/);
    const json = JSON.parse(out);
    expect(json.since).toBe('2026-11-24T18:00:00.000Z');
    expect(json.groups).toEqual([
      {
        backend: 'azure',
        requests: 3,
        errors: 1,
        tokens: { input: 2234, output: 1067, cacheRead: 2000, cacheWrite: 0 },
        actualUsd: '0.01057783',
        counterfactualUsd: '0.0111',
        differenceUsd: '0.0011',
        unpriced: 0,
        noCounterfactual: 1,
      },
      {
        backend: 'bedrock',
        requests: 2,
        errors: 0,
        tokens: { input: 110, output: 310, cacheRead: 10000, cacheWrite: 2000 },
        actualUsd: '0.0153',
        counterfactualUsd: '0.03325',
        differenceUsd: '0.01795',
        unpriced: 1,
        noCounterfactual: 1,
      },
    ]);
    expect(json.total).toEqual({
      backend: 'TOTAL',
      requests: 5,
      errors: 1,
      tokens: { input: 2344, output: 1377, cacheRead: 12000, cacheWrite: 2000 },
      actualUsd: '0.02587783',
      counterfactualUsd: '0.04435',
      differenceUsd: '0.01905',
      unpriced: 1,
      noCounterfactual: 2,
    });
  });

  it('csv: one header, a row per group, a total row, exact decimals', async () => {
    const { code, out } = await run({ ledger: fixture(), format: 'csv', by: 'tenant' });
    expect(code).toBe(0);
    expect(out).toBe(
      [
        'tenant,requests,errors,input,output,cache_read,cache_write,actual_usd,counterfactual_usd,difference_usd,unpriced,no_counterfactual',
        'acme,3,1,1100,800,12000,2000,0.0253,0.04435,0.01905,0,0',
        'beta,2,0,1244,577,0,0,0.00057783,0,0,1,2',
        'TOTAL,5,1,2344,1377,12000,2000,0.02587783,0.04435,0.01905,1,2',
        '',
      ].join('\n'),
    );
  });

  it('table: aligned columns, totals, money rounded to 6 decimals', async () => {
    const { code, out } = await run({ ledger: fixture(), by: 'route' });
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^route\s+requests\s+errors\s+input\s+output\s+cache_read\s+cache_write\s+actual_usd\s+counterfactual_usd\s+difference_usd\s+unpriced\s+no_counterfactual$/);
    expect(lines.find((l) => l.startsWith('chat'))).toMatch(/^chat\s+3\s+1\s+2234\s+1067\s+2000\s+0\s+0\.010578\s+0\.011100\s+0\.001100\s+0\s+1$/);
    expect(lines.find((l) => l.startsWith('sessions'))).toMatch(/^sessions\s+2\s+0\s+110\s+310\s+10000\s+2000\s+0\.015300\s+0\.033250\s+0\.017950\s+1\s+1$/);
    expect(lines.find((l) => l.startsWith('TOTAL'))).toMatch(/^TOTAL\s+5\s+1\s+2344\s+1377\s+12000\s+2000\s+0\.025878\s+0\.044350\s+0\.019050\s+1\s+2$/);
    // every row has its columns at the same place
    const rows = lines.filter((l) => /^(route|chat|sessions|TOTAL)/.test(l));
    expect(new Set(rows.map((l) => l.length)).size).toBe(1);
  });

  it('groups by model answered (or requested when none answered)', async () => {
    const { out } = await run({ ledger: fixture(), by: 'model', format: 'json' });
    const json = JSON.parse(out);
    expect(json.groups.map((g: { model: string; requests: number }) => [g.model, g.requests])).toEqual([
      ['gpt-4o', 1],
      ['gpt-4o-2024-08-06', 1],
      ['gpt-4o-mini', 1],
      ['mystery', 1],
      [`us.${SONNET}`, 1],
    ]);
  });

  it('without --since reads everything; with an ISO time reads from it', async () => {
    const dir = fixture();
    expect(JSON.parse((await run({ ledger: dir, format: 'json', since: undefined })).out).total.requests).toBe(6);
    expect(JSON.parse((await run({ ledger: dir, format: 'json', since: '2026-11-19T00:00:00Z' })).out).total.actualUsd).toBe('1.02587783');
    expect(JSON.parse((await run({ ledger: dir, format: 'json', since: '2026-11-26T00:00:00Z' })).out).total.requests).toBe(0);
  });

  it('reads a single ledger file too', async () => {
    const dir = fixture();
    const { out } = await run({ ledger: join(dir, 'usage-2026-11-25.jsonl'), format: 'json' });
    expect(JSON.parse(out).total.requests).toBe(3);
  });

  it('shows a progress line on stderr while reading a large ledger', async () => {
    const dir = tempDir('stateroute-report-');
    writeFileSync(join(dir, 'usage-2026-11-25.jsonl'), Array.from({ length: 5000 }, (_, i) => JSON.stringify(record({ requestId: `p${i}` })) + '\n').join(''));
    const out = sink();
    const err = sink(true);
    expect(await reportCommand({ ledger: dir, format: 'csv', out, err, progressIntervalMs: 0 })).toBe(0);
    expect(err.text()).toMatch(/^\rreading ledger: 1,024 records/);
    expect(err.text()).toMatch(/\rreading ledger: 5,000 records\n$/);
    expect(out.text().split('\n').at(-2)).toMatch(/^TOTAL,5000,/);
  });

  it('bad arguments exit 2, an unreadable ledger exits 1, with a message', async () => {
    const dir = fixture();
    let r = await run({ ledger: dir, since: 'yesterday' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--since must be a duration like 24h/);
    r = await run({ ledger: dir, by: 'user' as never });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--by must be one of backend, model, tenant, route/);
    r = await run({ ledger: dir, format: 'xml' as never });
    expect(r.code).toBe(2);
    r = await run({ ledger: join(dir, 'does-not-exist') });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read the ledger/);
    r = await run({ ledger: 'postgres://postgres:hunter2@127.0.0.1:1/x' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('[REDACTED]');
    expect(r.err).not.toContain('hunter2');
    expect(r.out).toBe('');
  });

  it('parses --since', () => {
    expect(parseSince('24h', NOW).toISOString()).toBe('2026-11-24T18:00:00.000Z');
    expect(parseSince('7d', NOW).toISOString()).toBe('2026-11-18T18:00:00.000Z');
    expect(parseSince('30m', NOW).toISOString()).toBe('2026-11-25T17:30:00.000Z');
    expect(parseSince('2026-11-01', NOW).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(() => parseSince('-1h', NOW)).toThrow();
  });

  it('reportMain parses argv like the CLI does (default --since 24h)', async () => {
    const dir = fixture();
    const out = sink();
    const err = sink();
    expect(await reportMain(['--ledger', dir, '--by=tenant', '--format', 'csv'], { out, err, now: () => NOW })).toBe(0);
    expect(out.text().split('\n').at(-2)).toBe('TOTAL,5,1,2344,1377,12000,2000,0.02587783,0.04435,0.01905,1,2');
    const e = sink();
    expect(await reportMain(['--ledger'], { out: sink(), err: e })).toBe(2);
    expect(e.text()).toMatch(/--ledger needs a value/);
    expect(await reportMain(['--by', 'model'], { out: sink(), err: sink() })).toBe(2);
    expect(await reportMain(['--nope'], { out: sink(), err: sink() })).toBe(2);
    const help = sink();
    expect(await reportMain(['--help'], { out: help, err: sink() })).toBe(0);
    expect(help.text()).toMatch(/^usage: stateroute report/);
  });
});
