// PostgreSQL ledger for several replicas: one table, created if missing, batched multi-row INSERTs
// that are idempotent on request_id (ON CONFLICT DO NOTHING), so a replayed record (spill file
// import, a retried batch) is never counted twice. Money is NUMERIC, written from exact decimal strings.
import pg from 'pg';
import { BatchedSink, type BatchedSinkOptions } from './batched.js';
import { usdToPico, picoToUsdString } from '../money.js';
import type { LineBatch } from './line-queue.js';
import type { LedgerRecord } from './types.js';

export interface PostgresLedgerOptions extends Omit<BatchedSinkOptions, 'spillDir'> {
  url: string;
  table: string;
  spillDir: string;
  /** Pool size; default 2 (writes are batched). */
  maxConnections?: number;
}

const TABLE = /^[a-z_][a-z0-9_]*$/;

/** Columns in insert order, with their SQL types and how a record fills them. */
const COLUMNS: [name: string, type: string, get: (r: LedgerRecord) => unknown][] = [
  ['request_id', 'text PRIMARY KEY', (r) => r.requestId],
  ['time', 'timestamptz NOT NULL', (r) => r.time],
  ['tenant', 'text NOT NULL', (r) => r.tenant],
  ['route', 'text NOT NULL', (r) => r.route],
  ['rule', 'text NOT NULL', (r) => r.rule],
  ['backend', 'text NOT NULL', (r) => r.backend],
  ['provider', 'text NOT NULL', (r) => r.provider],
  ['kind', 'text NOT NULL', (r) => r.kind],
  ['operation', 'text NOT NULL', (r) => r.operation],
  ['model_requested', 'text NOT NULL', (r) => r.modelRequested],
  ['model_answered', 'text', (r) => r.modelAnswered],
  ['stream', 'boolean NOT NULL', (r) => r.stream],
  ['input_tokens', 'bigint NOT NULL', (r) => r.tokens.input],
  ['output_tokens', 'bigint NOT NULL', (r) => r.tokens.output],
  ['cache_read_tokens', 'bigint NOT NULL', (r) => r.tokens.cacheRead],
  ['cache_write_tokens', 'bigint NOT NULL', (r) => r.tokens.cacheWrite],
  ['reasoning_tokens', 'bigint NOT NULL', (r) => r.tokens.reasoning],
  ['cost_usd', 'numeric(30,12)', (r) => money(r.costUsd)],
  ['counterfactual_cost_usd', 'numeric(30,12)', (r) => money(r.counterfactualCostUsd)],
  ['counterfactual_model', 'text', (r) => r.counterfactualModel],
  ['latency_ms', 'double precision NOT NULL', (r) => r.latencyMs],
  ['ttft_ms', 'double precision', (r) => r.ttftMs],
  ['upstream_ms', 'double precision', (r) => r.upstreamMs],
  ['status', 'integer NOT NULL', (r) => r.status],
  ['error_type', 'text', (r) => r.errorType],
  ['session_hash', 'text', (r) => r.sessionHash],
  ['usage_estimated', 'boolean NOT NULL DEFAULT false', (r) => r.usageEstimated === true],
];

const money = (usd: number | null) => (usd === null ? null : picoToUsdString(usdToPico(usd)));

export function createTableSql(table: string): string {
  if (!TABLE.test(table)) throw new RangeError(`invalid table name ${JSON.stringify(table)}`);
  return `CREATE TABLE IF NOT EXISTS ${table} (\n  ${COLUMNS.map(([n, t]) => `${n} ${t}`).join(',\n  ')}\n);\nCREATE INDEX IF NOT EXISTS ${table}_time_idx ON ${table} (time);`;
}

export class PostgresLedger extends BatchedSink {
  private readonly pool: pg.Pool;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: PostgresLedgerOptions) {
    super(options);
    if (!TABLE.test(options.table)) throw new RangeError(`invalid table name ${JSON.stringify(options.table)}: lowercase letters, digits and "_" only`);
    // 27 columns × 1000 rows stays far below PostgreSQL's 65535 bind parameters.
    this.maxBatch = 1000;
    // Bounded waits: a hung database must not hold close() (and so shutdown) forever; a timed-out batch is spilled.
    this.pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 2, connectionTimeoutMillis: 5000, query_timeout: 15_000 });
    this.pool.on('error', (err) => this.logger?.warn({ err }, 'idle PostgreSQL ledger connection failed'));
  }

  protected async writeBatch(batch: LineBatch): Promise<void> {
    // The queue keeps only lines; parsing them here, once per flush, inserts exactly what the spill
    // file would hold and what write() saw, whatever happened to the record object since.
    const records = batch.lines().map((line) => JSON.parse(line) as LedgerRecord);
    this.ready ??= this.createTable();
    try {
      await this.ready;
    } catch (err) {
      this.ready = undefined; // try again next batch
      throw err;
    }
    const values: unknown[] = [];
    const rows = records.map((r) => {
      const start = values.length;
      for (const [, , get] of COLUMNS) values.push(get(r));
      return `(${COLUMNS.map((_, i) => `$${start + i + 1}`).join(',')})`;
    });
    await this.pool.query(`INSERT INTO ${this.options.table} (${COLUMNS.map(([n]) => n).join(',')}) VALUES ${rows.join(',')} ON CONFLICT (request_id) DO NOTHING`, values);
  }

  /** Concurrent CREATE TABLE IF NOT EXISTS from two replicas can fail with a unique violation in
   * pg_type; an advisory lock keyed on the table name makes the replicas take turns. */
  private async createTable(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`stateroute-ledger:${this.options.table}`]);
      await client.query(createTableSql(this.options.table));
      // Tables created before the column existed get it here.
      await client.query(`ALTER TABLE ${this.options.table} ADD COLUMN IF NOT EXISTS usage_estimated boolean NOT NULL DEFAULT false`);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  protected async release(): Promise<void> {
    await this.pool.end();
  }
}

type Row = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

export function rowToRecord(row: Row): LedgerRecord {
  return {
    requestId: String(row.request_id),
    time: row.time instanceof Date ? row.time.toISOString() : new Date(String(row.time)).toISOString(),
    tenant: String(row.tenant),
    route: String(row.route),
    rule: String(row.rule),
    backend: String(row.backend),
    provider: String(row.provider),
    kind: row.kind === 'stateful' ? 'stateful' : 'stateless',
    operation: String(row.operation),
    modelRequested: String(row.model_requested),
    modelAnswered: row.model_answered === null ? null : String(row.model_answered),
    stream: Boolean(row.stream),
    tokens: {
      input: num(row.input_tokens),
      output: num(row.output_tokens),
      cacheRead: num(row.cache_read_tokens),
      cacheWrite: num(row.cache_write_tokens),
      reasoning: num(row.reasoning_tokens),
    },
    // NUMERIC arrives as a decimal string; Number() of it is exact for per-request amounts.
    costUsd: numOrNull(row.cost_usd),
    counterfactualCostUsd: numOrNull(row.counterfactual_cost_usd),
    counterfactualModel: row.counterfactual_model === null ? null : String(row.counterfactual_model),
    latencyMs: num(row.latency_ms),
    ttftMs: numOrNull(row.ttft_ms),
    upstreamMs: numOrNull(row.upstream_ms),
    status: num(row.status),
    errorType: row.error_type === null ? null : String(row.error_type),
    sessionHash: row.session_hash === null ? null : String(row.session_hash),
    ...(row.usage_estimated === true ? { usageEstimated: true } : {}),
  };
}

/** Read records with time ≥ since, in (time, request_id) order, a page at a time. */
export async function* readPostgres(options: { url: string; table: string; since?: Date | undefined; until?: Date | undefined; pageSize?: number }): AsyncGenerator<LedgerRecord> {
  if (!TABLE.test(options.table)) throw new RangeError(`invalid table name ${JSON.stringify(options.table)}`);
  const client = new pg.Client({ connectionString: options.url });
  await client.connect();
  try {
    const pageSize = options.pageSize ?? 5000;
    let after: [Date, string] | undefined;
    for (;;) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (options.since) where.push(`time >= $${params.push(options.since)}`);
      if (options.until) where.push(`time < $${params.push(options.until)}`);
      if (after) where.push(`(time, request_id) > ($${params.push(after[0])}, $${params.push(after[1])})`);
      const sql = `SELECT * FROM ${options.table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY time, request_id LIMIT ${pageSize}`;
      const { rows } = await client.query<Row>(sql, params);
      for (const row of rows) yield rowToRecord(row);
      if (rows.length < pageSize) return;
      const last = rows.at(-1)!;
      after = [last.time as Date, String(last.request_id)];
    }
  } finally {
    await client.end();
  }
}
