import { z } from 'zod';

// Failure handling of one route (issue #6): timeouts, retries with a budget, circuit breaking.
// Every field has a default, so `resilience: {}` (or no block at all) is a working policy.

const ms = () => z.number().int().positive();

export const timeoutsSchema = z
  .object({
    /** A new connection (DNS, TCP, TLS handshake): past it the attempt fails with 504
     * `upstream_connect_timeout`, retried like a refused connection. Enforced by the backends' HTTP
     * agents, pooled per backend: a backend several routes reach uses their smallest value
     * (resilience/route.ts, connectMsByBackend). The wrapper's own bound is `headersMs`. */
    connectMs: ms().default(5_000),
    /** Stream: until the upstream answered with headers (the backend's `chat()` resolved). Timing out is
     * not retried on the same target: the request goes to the next fallback. */
    headersMs: ms().default(30_000),
    /** Non-streamed call: until the whole JSON answer (the backend interface gives nothing earlier). */
    responseMs: ms().default(120_000),
    /** Stream: from the headers to the first chunk that carries content. Not retried: fallback. */
    firstTokenMs: ms().default(30_000),
    /** Stream: longest gap between two chunks once content flows. */
    idleMs: ms().default(30_000),
    /** Whole request, every attempt and the stream included; 504 when it passes. */
    totalMs: ms().default(600_000),
  })
  .strict();

export const retryBudgetSchema = z
  .object({
    /** Retries may be at most this share of the requests to a target over the window. */
    ratio: z.number().min(0).max(1).default(0.2),
    /** Retries always allowed per window, however few the requests (the floor). */
    minPerWindow: z.number().int().min(0).default(10),
    windowMs: ms().default(10_000),
  })
  .strict();

export const retriesSchema = z
  .object({
    /** Attempts on one target, the first included (1 = no retry). */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    baseDelayMs: z.number().int().min(0).default(250),
    maxDelayMs: z.number().int().min(0).default(4_000),
    /** A `retry-after`/`retry-after-ms` longer than this is not waited for: the next fallback is tried
     * (or the client gets the error with the upstream's retry-after). */
    retryAfterCapMs: z.number().int().min(0).default(10_000),
    budget: retryBudgetSchema.default(() => retryBudgetSchema.parse({})),
  })
  .strict()
  .refine((r) => r.baseDelayMs <= r.maxDelayMs, { message: 'baseDelayMs must not exceed maxDelayMs', path: ['baseDelayMs'] });

export const breakerSchema = z
  .object({
    /** Consecutive failures (429, 408, 5xx, resets, timeouts) that eject a target. */
    consecutiveFailures: z.number().int().min(1).default(5),
    /** How long an ejected target is skipped before the first probe. */
    cooldownMs: ms().default(10_000),
    /** After a failed probe, how long until the next one: the longest a recovered target waits to be used again. */
    probeIntervalMs: ms().default(5_000),
  })
  .strict();

export const resilienceSchema = z
  .object({
    timeouts: timeoutsSchema.default(() => timeoutsSchema.parse({})),
    retries: retriesSchema.default(() => retriesSchema.parse({})),
    breaker: breakerSchema.default(() => breakerSchema.parse({})),
  })
  .strict();

export type ResilienceConfig = z.infer<typeof resilienceSchema>;
export type TimeoutsConfig = z.infer<typeof timeoutsSchema>;
export type RetriesConfig = z.infer<typeof retriesSchema>;
export type RetryBudgetConfig = z.infer<typeof retryBudgetSchema>;
export type BreakerConfig = z.infer<typeof breakerSchema>;

export const defaultResilience = (): ResilienceConfig => resilienceSchema.parse({});
