// The pure parts: what is retryable, how long to wait, the budget's arithmetic, the config schema.
import { describe, expect, it } from 'vitest';
import { resilienceSchema, retriesSchema, retryBudgetSchema } from '../../src/config/resilience.js';
import { GatewayError, upstreamConnectTimeout } from '../../src/errors.js';
import { RetryBudget } from '../../src/resilience/budget.js';
import { ResilienceState } from '../../src/resilience/state.js';
import { backoffMs, classifyFailure, retryAfterMs, retryDelayMs } from '../../src/resilience/retry-policy.js';

const err = (status: number, code: string | null = null, headers: Record<string, string> = {}) => new GatewayError({ status, message: 'x', code, headers });

describe('classifyFailure', () => {
  it.each([
    ['429', err(429), 'retryable'],
    ['408', err(408), 'retryable'],
    ['500', err(500), 'retryable'],
    ['502', err(502, 'upstream_unreachable'), 'retryable'],
    ['503', err(503), 'retryable'],
    ['a reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'retryable'],
    ['a refused connection under a cause', new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }), 'retryable'],
    ['headers timeout', err(504, 'upstream_headers_timeout'), 'timeout'],
    ['first token timeout', err(504, 'upstream_first_token_timeout'), 'timeout'],
    ['the SDK timeout', err(504, 'upstream_timeout'), 'timeout'],
    // A failed connect cost only connectMs, and a new one may well succeed: retried like a refusal.
    ['a connect timeout', upstreamConnectTimeout(300), 'retryable'],
    ['context length', err(400, 'context_length_exceeded'), 'too-large'],
    ['content filter', err(400, 'content_filter'), 'final'],
    ['a 400', err(400, 'invalid_value'), 'final'],
    ['a 401', err(401), 'final'],
    ['a 404', err(404, 'model_not_found'), 'final'],
    ['x-should-retry: false on a 503', err(503, null, { 'x-should-retry': 'false' }), 'final'],
    ['x-should-retry: true on a 409', err(409, null, { 'x-should-retry': 'true' }), 'retryable'],
    ['a plain bug', new TypeError('x is undefined'), 'final'],
  ])('%s → %s', (_name, error, kind) => {
    expect(classifyFailure(error)).toBe(kind);
  });
});

describe('retry delays', () => {
  const retries = retriesSchema.parse({ baseDelayMs: 100, maxDelayMs: 1000, retryAfterCapMs: 5000 });

  it('reads retry-after-ms first, then retry-after in seconds or as a date', () => {
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '9' })).toBe(250);
    expect(retryAfterMs({ 'retry-after': '2' })).toBe(2000);
    expect(retryAfterMs({ 'retry-after': new Date(61_000).toUTCString() }, 1_000)).toBe(60_000);
    expect(retryAfterMs({ 'retry-after': 'soon' })).toBeUndefined();
    expect(retryAfterMs({})).toBeUndefined();
  });

  it('backs off exponentially up to the maximum, with at most 25 % jitter', () => {
    expect(backoffMs(1, retries, () => 0)).toBe(100);
    expect(backoffMs(2, retries, () => 0)).toBe(200);
    expect(backoffMs(3, retries, () => 0)).toBe(400);
    expect(backoffMs(10, retries, () => 0)).toBe(1000);
    expect(backoffMs(2, retries, () => 1)).toBe(150);
  });

  it('honours the upstream, but never waits past the cap', () => {
    expect(retryDelayMs(err(429, null, { 'retry-after': '2' }), 1, retries)).toBe(2000);
    expect(retryDelayMs(err(429, null, { 'retry-after': '6' }), 1, retries)).toBeUndefined();
    expect(retryDelayMs(err(503), 1, retries, () => 0)).toBe(100);
  });
});

describe('RetryBudget', () => {
  const config = retryBudgetSchema.parse({ ratio: 0.2, minPerWindow: 2, windowMs: 1000 });

  it('allows the floor, then 20 % of the requests in the window', () => {
    let now = 0;
    const budget = new RetryBudget(() => now);
    budget.recordRequest(config);
    expect(budget.tryAcquire(config)).toBe(true);
    expect(budget.tryAcquire(config)).toBe(true);
    expect(budget.tryAcquire(config)).toBe(false);
    for (let i = 0; i < 19; i++) budget.recordRequest(config);
    expect(budget.tryAcquire(config)).toBe(true);
    expect(budget.tryAcquire(config)).toBe(true);
    expect(budget.tryAcquire(config)).toBe(false);
  });

  it('forgets what slid out of the window', () => {
    let now = 0;
    const budget = new RetryBudget(() => now);
    budget.recordRequest(config);
    expect(budget.tryAcquire(config)).toBe(true);
    expect(budget.tryAcquire(config)).toBe(true);
    expect(budget.tryAcquire(config)).toBe(false);
    now = 500;
    expect(budget.tryAcquire(config)).toBe(false);
    now = 1100;
    expect(budget.tryAcquire(config)).toBe(true);
  });
});

describe('resilienceSchema', () => {
  it('documents its defaults', () => {
    expect(resilienceSchema.parse({})).toEqual({
      timeouts: { connectMs: 5000, headersMs: 30000, responseMs: 120000, firstTokenMs: 30000, idleMs: 30000, totalMs: 600000 },
      retries: { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 4000, retryAfterCapMs: 10000, budget: { ratio: 0.2, minPerWindow: 10, windowMs: 10000 } },
      breaker: { consecutiveFailures: 5, cooldownMs: 10000, probeIntervalMs: 5000 },
    });
  });

  it('rejects values it cannot honour instead of clamping them', () => {
    expect(resilienceSchema.safeParse({ retries: { maxAttempts: 0 } }).success).toBe(false);
    expect(resilienceSchema.safeParse({ retries: { budget: { ratio: 1.5 } } }).success).toBe(false);
    expect(resilienceSchema.safeParse({ retries: { baseDelayMs: 5000, maxDelayMs: 100 } }).success).toBe(false);
    expect(resilienceSchema.safeParse({ timeouts: { idleMs: 0 } }).success).toBe(false);
    expect(resilienceSchema.safeParse({ timeouts: { idelMs: 10 } }).success).toBe(false);
  });
});

describe('ResilienceState', () => {
  it('stays bounded whatever model names clients send', () => {
    const state = new ResilienceState({ maxTargets: 3 });
    for (let i = 0; i < 100; i++) state.breaker(`azure/model-${i}`);
    expect(state.size).toBe(3);
    const kept = state.breaker('azure/model-99');
    expect(state.breaker('azure/model-99')).toBe(kept);
  });
});
