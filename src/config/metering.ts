import { z } from 'zod';

/** A price in USD per 1M tokens; at most 6 decimal places so that cost arithmetic stays exact. */
const usdPerMillion = z
  .number()
  .nonnegative()
  .refine((n) => Number.isFinite(n) && /^\d+(\.\d{1,6})?$/.test(String(n)), 'a price (USD per 1M tokens) may have at most 6 decimal places');

/** USD per 1M tokens. A missing cache price falls back to the input price. */
export const priceSchema = z
  .object({
    input: usdPerMillion,
    output: usdPerMillion,
    cacheRead: usdPerMillion.optional(),
    cacheWrite: usdPerMillion.optional(),
  })
  .strict();

const jsonlLedger = z
  .object({
    type: z.literal('jsonl'),
    dir: z.string().default('./.ledger'),
    maxFileBytes: z.number().int().positive().default(64 * 1024 * 1024),
    /** Batches are written and fsync'd this often. At most 500 ms, leaving the rest of a second for
     * the write and fsync themselves: a record is durable within a second, so a crash loses at most that. */
    flushIntervalMs: z.number().int().positive().max(500, 'at most 500 ms, so that every record is fsync\'d within a second').default(200),
    maxQueue: z.number().int().positive().default(10_000),
  })
  .strict();

const postgresLedger = z
  .object({
    type: z.literal('postgres'),
    url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    table: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('stateroute_usage'),
    flushIntervalMs: z.number().int().positive().max(1000).default(200),
    maxQueue: z.number().int().positive().default(10_000),
    /** Where records go when the queue is full or PostgreSQL fails (JSON Lines, replayable). */
    spillDir: z.string().default('./.ledger'),
  })
  .strict();

const noLedger = z.object({ type: z.literal('none') }).strict();

export const ledgerSchema = z.discriminatedUnion('type', [jsonlLedger, postgresLedger, noLedger]);
export type LedgerConfig = z.infer<typeof ledgerSchema>;
export type JsonlLedgerConfig = z.infer<typeof jsonlLedger>;
export type PostgresLedgerConfig = z.infer<typeof postgresLedger>;

export const meteringSchema = z
  .object({
    /** Model (as the upstream names it, or the client name) → price. Merged over the shipped defaults; an entry replaces the default entry of the same name. */
    prices: z.record(z.string(), priceSchema).default({}),
    /** Equivalent models across the two backends, for counterfactual cost: stateless model → stateful model (looked up in both directions). */
    equivalents: z.record(z.string(), z.string()).default({}),
    /** Mixed into the session-id hash written to the ledger, so ledger readers cannot confirm a guessed session id. */
    sessionHashSalt: z.string().default(''),
    ledger: ledgerSchema.default({ type: 'jsonl', dir: './.ledger', maxFileBytes: 64 * 1024 * 1024, flushIntervalMs: 200, maxQueue: 10_000 }),
  })
  .strict();
export type MeteringConfig = z.infer<typeof meteringSchema>;
