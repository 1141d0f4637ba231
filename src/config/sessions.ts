import { z } from 'zod';
import { redisStoreSchema } from './redis.js';

const MiB = 1024 * 1024;

/** Bytes the memory store counts per session on top of its messages (arrays, numbers, key). */
export const MEMORY_ENTRY_OVERHEAD_BYTES = 256;

const memoryStore = z
  .object({
    type: z.literal('memory'),
    /** Entries kept (sessions and stored Responses-API documents); the least recently used go first. */
    maxSessions: z.number().int().positive().default(10_000),
    /** Bytes kept (stored JSON of messages + their hashes, plus documents); LRU eviction past it. */
    maxBytes: z.number().int().positive().default(256 * MiB),
  })
  .strict();

const redisStore = redisStoreSchema('stateroute:');

export const sessionsSchema = z
  .object({
    /** Header that carries the session id. */
    header: z.string().default('x-session-id'),
    /** Body field (dotted path) that may carry the session id, e.g. "metadata.session_id". */
    bodyField: z.string().optional(),
    /** A session expires this long after it was last loaded or written. */
    ttlSeconds: z.number().int().positive().default(24 * 3600),
    /** A commit that would make one session's stored history larger than this fails with 413. */
    maxSessionBytes: z.number().int().positive().default(8 * MiB),
    store: z
      .discriminatedUnion('type', [memoryStore, redisStore])
      .default({ type: 'memory', maxSessions: 10_000, maxBytes: 256 * MiB }),
    lock: z
      .object({
        /** Turns queued behind a running one before the next gets 409. */
        maxQueue: z.number().int().min(0).default(8),
        waitMs: z.number().int().positive().default(30_000),
        /** Lock expiry, so a crashed replica cannot hold a session forever. */
        ttlMs: z.number().int().positive().default(120_000),
        /** A running turn keeps its lock up to this long (renewed every third of ttlMs), so a turn
         * longer than ttlMs is not joined by the next one; match the routes' total timeout. */
        holdMs: z.number().int().positive().default(600_000),
      })
      .strict()
      .default({ maxQueue: 8, waitMs: 30_000, ttlMs: 120_000, holdMs: 600_000 }),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const least = cfg.maxSessionBytes + MEMORY_ENTRY_OVERHEAD_BYTES;
    if (cfg.store.type === 'memory' && cfg.store.maxBytes < least)
      ctx.addIssue({
        code: 'custom',
        path: ['store', 'maxBytes'],
        message: `must be at least maxSessionBytes + ${MEMORY_ENTRY_OVERHEAD_BYTES} (${least}), or a full session could never be stored; lower maxSessionBytes or raise maxBytes`,
      });
  });
export type SessionsConfig = z.infer<typeof sessionsSchema>;
export type SessionStoreConfig = SessionsConfig['store'];
