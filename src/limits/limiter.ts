// The limiter: a Hono middleware (after auth and the body parser) that admits or refuses each
// request against its tenant's limits, and a meter observer that settles the request at its end.
//
// Every proxied request ends in exactly one meter.record() — success, upstream error, client
// disconnect, end of stream — so that is where a request's concurrency slot is released, its token
// reservation replaced by the real usage and its cost added to the budget. A request that never
// reaches the meter (a 400 before routing, a GET) is settled by the middleware once the handler returned.
import { randomUUID } from 'node:crypto';
import { newRequestId } from '../server/middleware/request-id.js';
import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { limitsFor, limitsSchema, type LimitsConfig, type TenantLimits } from '../config/limits.js';
import { GatewayError, invalidRequest } from '../errors.js';
import type { Meter, MeterRecordInput } from '../metering/meter.js';
import type { AppEnv } from '../server/context.js';
import { setResponseHeader } from '../server/response-headers.js';
import { fillField, operationOf, outputAsked, promptTokens, type Operation } from './estimate.js';
import { budgetPeriods, usdToNano, type LimitName, type LimitStore } from './store.js';

export interface LimiterOptions {
  store: LimitStore;
  /** The limits in force, read per request so a config reload applies at once (the store stays). */
  config: () => LimitsConfig;
  logger: Logger;
  now?: () => number;
}

export interface Limiter {
  /** Place after auth and the JSON body middleware on /v1/*. */
  middleware: MiddlewareHandler<AppEnv>;
  /** The meter every handler records through: settles each request's lease at its end. */
  observe(meter: Meter): Meter;
  /** Requests admitted and not yet settled. */
  readonly inFlight: number;
  /** Resolves when every settlement started so far has reached the store. */
  settled(): Promise<void>;
  /** Waits for pending settlements, then closes the store. */
  close(): Promise<void>;
}

interface Lease {
  tenant: string;
  leaseId: string;
  key: string;
  trackTokens: boolean;
}

const LIMIT_TEXT: Record<LimitName, (l: TenantLimits) => string> = {
  requests_per_minute: (l) => `requests per minute (limit ${l.requestsPerMinute})`,
  tokens_per_minute: (l) => `tokens per minute (limit ${l.tokensPerMinute})`,
  concurrent_requests: (l) => `concurrent requests (limit ${l.concurrentRequests})`,
  budget_usd_day: (l) => `USD budget per UTC day (limit $${l.budgetUsd?.day})`,
  budget_usd_month: (l) => `USD budget per UTC month (limit $${l.budgetUsd?.month})`,
};

function rateLimited(limit: LimitName, limits: TenantLimits, retryAfterMs: number): GatewayError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new GatewayError({
    status: 429,
    type: 'rate_limit_error',
    code: limit,
    message: `Rate limit reached: ${LIMIT_TEXT[limit](limits)}. Please try again in ${seconds}s.`,
    headers: { 'retry-after': String(seconds), 'retry-after-ms': String(Math.max(0, Math.ceil(retryAfterMs))) },
  });
}

const isEventStream = (res: Response) => res.headers.get('content-type')?.startsWith('text/event-stream') === true;

/** Tokens a finished request really used; undefined keeps the estimate (a disconnect before usage was known). */
function usedTokens(input: MeterRecordInput): number | undefined {
  const u = input.usage;
  if (u) {
    const n = u.input + u.cacheRead + u.cacheWrite + u.output;
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }
  return input.status === 499 ? undefined : 0;
}

export function createLimiter(options: LimiterOptions): Limiter {
  const { store, logger } = options;
  if (!store || typeof store.admit !== 'function' || typeof store.settle !== 'function')
    throw new Error('createLimiter: `store` must be a LimitStore (MemoryLimitStore or RedisLimitStore)');
  if (typeof options.config !== 'function') throw new Error('createLimiter: `config` must be a function returning the current limits config');
  if (!logger) throw new Error('createLimiter: a logger is required');
  limitsSchema.parse(options.config()); // a wrong limits config fails at start, not on the first request
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new Error('createLimiter: `now` must be a function returning epoch ms');

  /** tenant \0 requestId → leases in admission order (a request id may be client-chosen). */
  const open = new Map<string, Lease[]>();
  const pending = new Set<Promise<void>>();
  let inFlight = 0;

  function take(key: string, lease?: Lease): Lease | undefined {
    const list = open.get(key);
    if (!list) return undefined;
    const i = lease ? list.indexOf(lease) : 0;
    if (i < 0) return undefined;
    const [found] = list.splice(i, 1);
    if (list.length === 0) open.delete(key);
    inFlight--;
    return found;
  }

  function settle(lease: Lease, outcome: { tokens?: number | undefined; costUsd?: number | null | undefined }): void {
    const t = now();
    const costNano = outcome.costUsd && outcome.costUsd > 0 ? usdToNano(outcome.costUsd) : 0;
    const p = store
      .settle({ tenant: lease.tenant, leaseId: lease.leaseId, now: t, tokens: outcome.tokens, trackTokens: lease.trackTokens, costNano, periods: budgetPeriods(t) })
      .catch((err) => logger.error({ err, tenant: lease.tenant }, 'could not settle a rate-limit lease; its slot frees at leaseTtlMs'))
      .finally(() => pending.delete(p));
    pending.add(p);
  }

  function admitKey(c: Context<AppEnv>, tenant: string): string {
    let key = `${tenant}\0${c.get('requestId')}`;
    if (open.has(key)) {
      // Two requests in flight with one client-chosen id: give this one its own, so each settles its own lease.
      const id = newRequestId();
      c.set('requestId', id);
      c.set('logger', c.get('logger').child({ requestId: id }));
      setResponseHeader(c, 'x-request-id', id);
      key = `${tenant}\0${id}`;
    }
    return key;
  }

  const middleware: MiddlewareHandler<AppEnv> = async function rateLimitsMiddleware(c, next) {
    const config = options.config();
    const tenant = c.get('tenant');
    const limits = limitsFor(config, tenant);
    const operation: Operation | undefined = operationOf(c.req.method, c.req.path);

    let tokens = 0;
    const body = c.get('body');
    if (operation && body && typeof body === 'object' && !Array.isArray(body)) {
      const fields = body as Record<string, unknown>;
      const ask = outputAsked(fields, operation);
      const fill = fillField(operation);
      if (limits.maxTokens !== undefined && ask.tokens !== undefined && ask.tokens > limits.maxTokens)
        throw invalidRequest(
          `'${ask.field}' is ${ask.tokens}, above this key's limit of ${limits.maxTokens} tokens (limits.maxTokens).`,
          ask.field!,
          'max_tokens_above_limit',
        );
      let output = ask.tokens;
      if (output === undefined && fill) {
        if (limits.maxTokens !== undefined) c.set('body', { ...fields, [fill]: (output = limits.maxTokens) });
        else output = config.defaultOutputTokens;
      }
      if (limits.tokensPerMinute !== undefined) tokens = promptTokens(fields) + (output ?? 0);
      if (limits.tokensPerMinute !== undefined && tokens > limits.tokensPerMinute)
        throw new GatewayError({
          status: 429,
          type: 'rate_limit_error',
          code: 'tokens_per_minute',
          message: `Request too large: an estimated ${tokens} tokens (prompt and requested output), more than the tokens-per-minute limit of ${limits.tokensPerMinute}. Send less or lower max_tokens.`,
          headers: { 'x-should-retry': 'false' },
        });
    }

    const budget = operation && limits.budgetUsd ? limits.budgetUsd : undefined;
    const tokensPerMinute = operation ? limits.tokensPerMinute : undefined;
    // Nothing to count for this request: no store round trip, no lease.
    // Awaited, not returned: an async function that returns a promise adopts it through two more
    // microtasks and a `then` call (ECMAScript's NewPromiseResolveThenableJob).
    if (limits.requestsPerMinute === undefined && tokensPerMinute === undefined && limits.concurrentRequests === undefined && !budget) {
      await next();
      return;
    }

    const t = now();
    const periods = budgetPeriods(t);
    const lease: Lease = { tenant, leaseId: randomUUID(), key: admitKey(c, tenant), trackTokens: limits.tokensPerMinute !== undefined };
    const verdict = await store.admit({
      tenant,
      leaseId: lease.leaseId,
      now: t,
      tokens,
      requestsPerMinute: limits.requestsPerMinute,
      tokensPerMinute,
      concurrentRequests: limits.concurrentRequests,
      budget: budget && {
        ...periods,
        dayNano: budget.day === undefined ? undefined : usdToNano(budget.day),
        monthNano: budget.month === undefined ? undefined : usdToNano(budget.month),
      },
      leaseTtlMs: config.leaseTtlMs,
    });
    if (!verdict.ok) throw rateLimited(verdict.limit, limits, verdict.retryAfterMs);

    const list = open.get(lease.key);
    if (list) list.push(lease);
    else open.set(lease.key, [lease]);
    inFlight++;
    try {
      await next();
    } finally {
      // Metered requests were settled by the meter (JSON) or will be at the stream's end (SSE).
      if (!c.res || !isEventStream(c.res) || c.error) if (take(lease.key, lease)) settle(lease, { tokens: 0 });
    }
  };

  return {
    middleware,
    get inFlight() {
      return inFlight;
    },
    observe(meter: Meter): Meter {
      return {
        get metrics() {
          return meter.metrics;
        },
        record(input) {
          const record = meter.record(input);
          const lease = take(`${input.tenant}\0${input.requestId}`);
          if (lease) settle(lease, { tokens: usedTokens(input), costUsd: record?.costUsd });
          return record;
        },
        reconfigure: (next) => meter.reconfigure(next),
        close: () => meter.close(),
      };
    },
    async settled() {
      await Promise.allSettled([...pending]);
    },
    async close() {
      await Promise.allSettled([...pending]);
      await store.close();
    },
  };
}
