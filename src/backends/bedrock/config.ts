import { z } from 'zod';

// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
export const bedrockConfigSchema = z
  .object({
    type: z.literal('bedrock'),
    region: z.string().min(1, 'required, e.g. "us-east-1"'),
    /** Override for tests, the simulator or a VPC endpoint. Default: the SDK's regional endpoint. */
    endpoint: z.url().optional(),
    /** Static credentials (from ${ENV}); omit to use the default AWS credential chain. */
    credentials: z
      .object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().optional() })
      .strict()
      .optional(),
    /** Client model name → Bedrock model id (or inference profile id), or `{ id, promptCache }` to
     * override `promptCache` for one model (models without prompt caching refuse cachePoint blocks). */
    models: z
      .record(z.string(), z.union([z.string().min(1), z.object({ id: z.string().min(1), promptCache: z.boolean().optional() }).strict()]))
      .default({}),
    /** Place cachePoints after the system prompt and the stored history so later turns of a
     * session read them from the prompt cache. */
    promptCache: z.boolean().default(true),
    /** Idle time (no bytes either way) after which a call fails, including a stalled stream. */
    timeoutMs: z.number().int().positive().default(600_000),
    /** Keep-alive HTTP/1.1 connections to Bedrock; requests beyond this queue in the pool. */
    maxSockets: z.number().int().positive().default(256),
    /** Memory for the kept translations of long session histories (history.ts), so a turn
     * translates and serialises only its new messages; least recently used go first. 0: none. */
    historyCacheBytes: z.number().int().nonnegative().default(64 * 1024 * 1024),
  })
  .strict();
export type BedrockConfig = z.infer<typeof bedrockConfigSchema>;
