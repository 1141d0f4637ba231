// Needs PostgreSQL at 127.0.0.1:5432 (STATEROUTE_TEST_PG_URL to override). Under CI an unreachable
// database fails the suite; elsewhere it is skipped with a visible message.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../src/cli/report.js';
import { copyLedger } from '../../src/metering/ledger/copy.js';
import { JsonlLedger } from '../../src/metering/ledger/jsonl.js';
import { PostgresLedger } from '../../src/metering/ledger/postgres.js';
import { readLedger } from '../../src/metering/ledger/read.js';
import type { LedgerRecord } from '../../src/metering/ledger/types.js';
import { PG_URL, postgresReachable, record, tempDir } from './helpers.js';

const reachable = await postgresReachable();
if (!reachable && process.env.CI) throw new Error(`PostgreSQL is not reachable at ${PG_URL}, and CI requires it`);
if (!reachable) console.warn(`SKIPPED: PostgreSQL ledger tests — PostgreSQL is not reachable at ${PG_URL}`);

describe.skipIf(!reachable)('PostgreSQL ledger', () => {
  const table = `stateroute_usage_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  const sinks: PostgresLedger[] = [];
  const sink = (overrides: Partial<ConstructorParameters<typeof PostgresLedger>[0]> = {}) => {
    const s = new PostgresLedger({ url: PG_URL, table, flushIntervalMs: 100, maxQueue: 10_000, spillDir: tempDir(), ...overrides });
    sinks.push(s);
    return s;
  };

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(sinks.map((s) => s.close()));
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  const totals = async () =>
    (
      await admin.query<{ n: string; input: string; cost: string; cf: string }>(
        `SELECT count(*) AS n, sum(input_tokens) AS input, sum(cost_usd) AS cost, sum(counterfactual_cost_usd) AS cf FROM ${table}`,
      )
    ).rows[0]!;

  it('two writers into one table: totals add up; a replayed record is not counted twice', async () => {
    const a = sink();
    const b = sink();
    const recsA = Array.from({ length: 1500 }, (_, i) => record({ requestId: `a-${i}`, tokens: { input: 3, output: 1, cacheRead: 0, cacheWrite: 0, reasoning: 0 }, costUsd: 0.000000825, counterfactualCostUsd: 0.0000111 }));
    const recsB = Array.from({ length: 700 }, (_, i) => record({ requestId: `b-${i}`, backend: 'bedrock', kind: 'stateful', tokens: { input: 5, output: 1, cacheRead: 100, cacheWrite: 0, reasoning: 0 }, costUsd: 0.0153, counterfactualCostUsd: null }));
    recsA.forEach((r) => a.write(r));
    recsB.forEach((r) => b.write(r));
    // replays: the same records again through the other writer, and again later
    recsA.slice(0, 100).forEach((r) => b.write(r));
    recsB.slice(0, 50).forEach((r) => a.write(r));
    await Promise.all([a.flush(), b.flush()]);
    recsA.slice(0, 10).forEach((r) => a.write(r));
    await a.flush();

    const t = await totals();
    expect(Number(t.n)).toBe(2200);
    expect(Number(t.input)).toBe(1500 * 3 + 700 * 5);
    // NUMERIC sums are exact: 1500 × 0.000000825 + 700 × 0.0153 = 0.0012375 + 10.71
    expect(t.cost).toBe('10.711237500000');
    expect(t.cf).toBe('0.016650000000');
  });

  it('reads back what it wrote, with since, nulls and exact money', async () => {
    const s = sink();
    const early = record({ requestId: 'early', time: '2026-01-01T00:00:00.000Z' });
    const late = record({ requestId: 'late', time: '2030-06-01T12:34:56.789Z', costUsd: null, counterfactualCostUsd: 0.00057783, modelAnswered: null, ttftMs: 12.5, sessionHash: 'ab'.repeat(16), errorType: 'server_error', status: 502 });
    s.write(early);
    s.write(late);
    await s.flush();
    const got: LedgerRecord[] = [];
    for await (const r of readLedger(`${PG_URL}#${table}`, { since: new Date('2030-05-01T00:00:00Z') })) got.push(r);
    expect(got).toEqual([late]);
    const all: LedgerRecord[] = [];
    for await (const r of readLedger(PG_URL, { table })) all.push(r);
    expect(all.length).toBeGreaterThanOrEqual(2202);
  });

  it('the report reads the table', async () => {
    let out = '';
    const code = await reportCommand({ ledger: `${PG_URL}#${table}`, by: 'backend', format: 'json', out: { write: (s: string) => void (out += s) }, err: { write: () => {} } });
    expect(code).toBe(0);
    const json = JSON.parse(out);
    // 1500 azure at 0.000000825 + 700 bedrock at 0.0153 from the first test, + 2 from the second (0.00075 and null)
    expect(json.groups.find((g: { backend: string }) => g.backend === 'bedrock')).toMatchObject({ requests: 700, actualUsd: '10.71' });
    expect(json.total.actualUsd).toBe('10.7119875');
  });

  it('a flush pass inserts what was queued when it began, in batches of at most 1000 rows', async () => {
    const batches: number[] = [];
    let arrivals = 7;
    // Records arriving while the pass runs (here: as soon as its first batch is in).
    const onFlush = ({ records }: { records: number }) => {
      batches.push(records);
      for (; arrivals > 0; arrivals--) s.write(record({ requestId: `pass-late-${arrivals}` }));
    };
    const s = sink({ flushIntervalMs: 1000, hooks: { onFlush } });
    for (let i = 0; i < 2500; i++) s.write(record({ requestId: `pass-${i}` }));
    const before = Number((await totals()).n);
    await s.flush();
    expect(batches).toEqual([1000, 1000, 500]);
    expect(s.queueDepth()).toBe(7);
    expect(Number((await totals()).n)).toBe(before + 2500);
    await s.close();
    expect(batches).toEqual([1000, 1000, 500, 7]);
    expect(Number((await totals()).n)).toBe(before + 2507);
  });

  it('inserts the record as it was at write(), not as it is later', async () => {
    const s = sink();
    const r = record({ requestId: 'mutated-later', status: 200 });
    s.write(r);
    r.status = 500;
    r.tokens.input = 999;
    await s.flush();
    const { rows } = await admin.query<{ status: number; input_tokens: string }>(`SELECT status, input_tokens FROM ${table} WHERE request_id = 'mutated-later'`);
    expect(rows).toEqual([{ status: 200, input_tokens: '100' }]);
  });

  it('spills to the local spill file when PostgreSQL fails', async () => {
    const spillDir = tempDir();
    let failures = 0;
    let spilled = 0;
    const s = sink({ url: 'postgres://postgres@127.0.0.1:1/nowhere', spillDir, hooks: { onWriteFailure: (n) => (failures += n), onSpill: (n) => (spilled += n) } });
    for (let i = 0; i < 5; i++) s.write(record());
    await s.close();
    expect(failures).toBe(5);
    expect(spilled).toBe(5);
    const file = readdirSync(spillDir).find((f) => f.startsWith('spill-'))!;
    expect(readFileSync(join(spillDir, file), 'utf8').trim().split('\n')).toHaveLength(5);
  });

  it('spilled records replay into the table once, however often the replay runs', async () => {
    const spillDir = tempDir();
    // what a PostgreSQL sink leaves behind when its queue overflowed: a spill file
    const local = new JsonlLedger({ dir: spillDir, maxFileBytes: 1 << 20, flushIntervalMs: 100, maxQueue: 1 });
    const recs = Array.from({ length: 2500 }, (_, i) => record({ requestId: `spilled-${i}`, costUsd: 0.000001 }));
    recs.forEach((r) => local.write(r));
    await local.close();
    const before = Number((await totals()).n);
    const s = sink({ maxQueue: 100_000 });
    expect(await copyLedger({ from: spillDir, to: s })).toBe(2500);
    expect(await copyLedger({ from: spillDir, to: s })).toBe(2500);
    expect(Number((await totals()).n)).toBe(before + 2500);
  });

  it('rejects a table name that is not a plain identifier', () => {
    expect(() => sink({ table: 'x; DROP TABLE y' })).toThrow(/invalid table name/);
  });
});
