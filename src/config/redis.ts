import { z } from 'zod';

/** A Redis connection as sessions and limits both configure it; only the default key prefix differs. */
export const redisStoreSchema = (defaultKeyPrefix: string) =>
  z
    .object({
      type: z.literal('redis'),
      url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
      keyPrefix: z
        .string()
        .regex(/^[^{}]*$/, 'must not contain "{" or "}" (Redis Cluster hash tags)')
        .default(defaultKeyPrefix),
      /** A command with no answer after this long fails with 503 (fail closed), so a dead Redis never hangs a request. */
      commandTimeoutMs: z.number().int().positive().default(1_000),
      connectTimeoutMs: z.number().int().positive().default(2_000),
    })
    .strict();
