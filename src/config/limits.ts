// The `limits` section: per-tenant request, token, concurrency, max_tokens and USD budget limits,
// and where their counters live (this process, or Redis shared by every replica).
import { z } from 'zod';
import { redisStoreSchema } from './redis.js';

const count = z.number().int().positive();

/** One tenant's limits. In `tenants.<name>` a field overrides `default`; `null` lifts that limit for the tenant. */
const tenantLimits = z
  .object({
    requestsPerMinute: count.nullish(),
    /** Estimated before the call (prompt chars / 4 + the output asked for), replaced by the real usage after. */
    tokensPerMinute: count.nullish(),
    concurrentRequests: count.nullish(),
    /** Ceiling on max_tokens / max_completion_tokens / max_output_tokens; a request asking none is given it. */
    maxTokens: count.nullish(),
    /** USD per UTC calendar day and month, from the metered cost of finished requests. */
    budgetUsd: z
      .object({ day: z.number().positive().optional(), month: z.number().positive().optional() })
      .strict()
      .nullish(),
  })
  .strict();

const memoryStore = z.object({ type: z.literal('memory') }).strict();
const redisStore = redisStoreSchema('stateroute:limits:');

export const limitsSchema = z
  .object({
    store: z
      .union([z.literal('memory').transform(() => ({ type: 'memory' as const })), memoryStore, redisStore])
      .default({ type: 'memory' }),
    default: tenantLimits.default({}),
    tenants: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a tenant name: letters, digits, "_", "." and "-" only'), tenantLimits).default({}),
    /** Output tokens reserved for a request that names no max_tokens when there is no maxTokens ceiling. */
    defaultOutputTokens: count.default(1024),
    /** A concurrency slot frees itself after this long even if its release was lost (a crashed replica). */
    leaseTtlMs: count.default(15 * 60_000),
  })
  .strict();

export type LimitsConfig = z.infer<typeof limitsSchema>;
export type TenantLimitsInput = z.infer<typeof tenantLimits>;

/** The limits in force for one tenant: `default` with the tenant's overrides; undefined = unlimited. */
export interface TenantLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  concurrentRequests?: number;
  maxTokens?: number;
  budgetUsd?: { day?: number; month?: number };
}

export function limitsFor(config: LimitsConfig, tenant: string): TenantLimits {
  const own = Object.hasOwn(config.tenants, tenant) ? config.tenants[tenant]! : {};
  const pick = <K extends keyof TenantLimitsInput>(k: K) => (k in own ? own[k] : config.default[k]) ?? undefined;
  return {
    requestsPerMinute: pick('requestsPerMinute'),
    tokensPerMinute: pick('tokensPerMinute'),
    concurrentRequests: pick('concurrentRequests'),
    maxTokens: pick('maxTokens'),
    budgetUsd: pick('budgetUsd'),
  } as TenantLimits;
}
