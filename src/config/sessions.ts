import { z } from 'zod';

const memoryStore = z
  .object({
    type: z.literal('memory'),
    maxSessions: z.number().int().positive().default(10_000),
    maxBytes: z.number().int().positive().default(256 * 1024 * 1024),
  })
  .strict();

const redisStore = z
  .object({
    type: z.literal('redis'),
    url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    keyPrefix: z.string().default('stateroute:'),
  })
  .strict();

export const sessionsSchema = z
  .object({
    /** Header that carries the session id. */
    header: z.string().default('x-session-id'),
    /** Body field (dotted path) that may carry the session id, e.g. "metadata.session_id". */
    bodyField: z.string().optional(),
    ttlSeconds: z.number().int().positive().default(24 * 3600),
    store: z.discriminatedUnion('type', [memoryStore, redisStore]).default({ type: 'memory', maxSessions: 10_000, maxBytes: 256 * 1024 * 1024 }),
    lock: z
      .object({
        /** Turns queued behind a running one before the next gets 409. */
        maxQueue: z.number().int().min(0).default(8),
        waitMs: z.number().int().positive().default(30_000),
        /** Lock expiry, so a crashed replica cannot hold a session forever. */
        ttlMs: z.number().int().positive().default(120_000),
      })
      .strict()
      .default({ maxQueue: 8, waitMs: 30_000, ttlMs: 120_000 }),
  })
  .strict();
export type SessionsConfig = z.infer<typeof sessionsSchema>;
