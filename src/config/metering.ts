import { z } from 'zod';

/** USD per 1M tokens. */
export const priceSchema = z
  .object({
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cacheRead: z.number().nonnegative().optional(),
    cacheWrite: z.number().nonnegative().optional(),
  })
  .strict();

const jsonlLedger = z
  .object({
    type: z.literal('jsonl'),
    dir: z.string().default('./.ledger'),
    maxFileBytes: z.number().int().positive().default(64 * 1024 * 1024),
    flushIntervalMs: z.number().int().positive().max(1000).default(200),
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
    spillDir: z.string().default('./.ledger'),
  })
  .strict();

const noLedger = z.object({ type: z.literal('none') }).strict();

export const meteringSchema = z
  .object({
    /** Model (as the upstream names it, or the client name) → price. Merged over the shipped defaults. */
    prices: z.record(z.string(), priceSchema).default({}),
    /** Equivalent models across the two backends, for counterfactual cost: stateless model → stateful model. */
    equivalents: z.record(z.string(), z.string()).default({}),
    ledger: z.discriminatedUnion('type', [jsonlLedger, postgresLedger, noLedger]).default({ type: 'jsonl', dir: './.ledger', maxFileBytes: 64 * 1024 * 1024, flushIntervalMs: 200, maxQueue: 10_000 }),
  })
  .strict();
export type MeteringConfig = z.infer<typeof meteringSchema>;
