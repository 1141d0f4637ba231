// Limit counters in Redis, shared by every replica. Each admit and each settle is one Lua script,
// so the check and the record are atomic across processes.
//
// Keys (tenant URI-encoded inside a hash tag, so one tenant's keys share a Redis Cluster slot):
//   {prefix}{<tenant>}:rpm       zset leaseId → admitted at (ms): the requests-per-minute log
//   {prefix}{<tenant>}:tpm       zset leaseId → stamped at (ms): the tokens-per-minute log
//   {prefix}{<tenant>}:tpm:n     hash leaseId → tokens
//   {prefix}{<tenant>}:tpm:sum   tokens in the log
//   {prefix}{<tenant>}:slots     zset leaseId → expiry (ms): concurrency slots
//   {prefix}{<tenant>}:usd:<day|month>  integer nano-USD spent, expiring after its period
import { Redis } from 'ioredis';
import { GatewayError } from '../errors.js';
import { LuaScript } from '../sessions/redis-scripts.js';
import { CONCURRENCY_RETRY_MS, WINDOW_MS, type Admission, type AdmitInput, type BudgetPeriods, type LimitName, type LimitStore, type SettleInput } from './store.js';

// Drops log entries that left the window; KEYS[1..4] = rpm, tpm, tpm:n, tpm:sum. Batched unpack
// keeps under Lua's stack limit whatever the rate.
const PURGE = `
local W = ${WINDOW_MS}
local function purge(now)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - W)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - W)
  local sum = 0
  for i = 1, #gone, 500 do
    local batch = {}
    for j = i, math.min(i + 499, #gone) do batch[#batch + 1] = gone[j] end
    for _, a in ipairs(redis.call('HMGET', KEYS[3], unpack(batch))) do sum = sum + (tonumber(a) or 0) end
    redis.call('ZREM', KEYS[2], unpack(batch))
    redis.call('HDEL', KEYS[3], unpack(batch))
  end
  if sum > 0 then redis.call('DECRBY', KEYS[4], sum) end
end
local function record(id, at, tokens)
  redis.call('ZADD', KEYS[2], at, id)
  redis.call('HSET', KEYS[3], id, tokens)
  redis.call('INCRBY', KEYS[4], tokens)
  for k = 2, 4 do redis.call('PEXPIRE', KEYS[k], W * 2) end
end
`;

/**
 * KEYS: rpm, tpm, tpm:n, tpm:sum, slots, usd:day, usd:month.
 * ARGV: now, leaseId, rpm, tpm, tokens, concurrency, leaseTtlMs, dayBudget, monthBudget, dayEndsAt, monthEndsAt
 * (a limit of 0 is no limit). Returns {} when admitted, else {limit, retryAfterMs}.
 */
const admitScript = new LuaScript(`${PURGE}
local now, id = tonumber(ARGV[1]), ARGV[2]
local rpm, tpm, tokens, conc, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local dayBudget, monthBudget, dayEnd, monthEnd = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
purge(now)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
local worst, wait = nil, -1
local function fail(name, ms) if ms > wait then worst, wait = name, ms end end
if dayBudget > 0 and tonumber(redis.call('GET', KEYS[6]) or '0') >= dayBudget then fail('budget_usd_day', dayEnd - now) end
if monthBudget > 0 and tonumber(redis.call('GET', KEYS[7]) or '0') >= monthBudget then fail('budget_usd_month', monthEnd - now) end
if conc > 0 and redis.call('ZCARD', KEYS[5]) >= conc then fail('concurrent_requests', ${CONCURRENCY_RETRY_MS}) end
if rpm > 0 then
  local n = redis.call('ZCARD', KEYS[1])
  if n >= rpm then
    local e = redis.call('ZRANGE', KEYS[1], n - rpm, n - rpm, 'WITHSCORES')
    fail('requests_per_minute', tonumber(e[2]) + W - now)
  end
end
if tpm > 0 then
  local total = tonumber(redis.call('GET', KEYS[4]) or '0')
  if total + tokens > tpm then
    local need, ms = total + tokens - tpm, W
    local log = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
    for i = 1, #log, 2 do
      need = need - (tonumber(redis.call('HGET', KEYS[3], log[i])) or 0)
      if need <= 0 then ms = tonumber(log[i + 1]) + W - now break end
    end
    fail('tokens_per_minute', ms)
  end
end
if worst then return {worst, wait} end
if rpm > 0 then
  redis.call('ZADD', KEYS[1], now, id)
  redis.call('PEXPIRE', KEYS[1], W * 2)
end
if tpm > 0 and tokens > 0 then record(id, now, tokens) end
if conc > 0 then
  redis.call('ZADD', KEYS[5], now + ttl, id)
  redis.call('PEXPIRE', KEYS[5], ttl)
end
return {}
`);

/**
 * KEYS: as admit. ARGV: now, leaseId, tokens (-1: keep the estimate), track (0|1), costNano, dayTtlMs, monthTtlMs.
 */
const settleScript = new LuaScript(`${PURGE}
local now, id, tokens, track, cost = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
redis.call('ZREM', KEYS[5], id)
if tokens >= 0 then
  local old = redis.call('HGET', KEYS[3], id)
  if old then
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    redis.call('DECRBY', KEYS[4], tonumber(old))
  end
  if (old or track == '1') and tokens > 0 then record(id, now, tokens) end
end
if cost > 0 then
  redis.call('INCRBY', KEYS[6], cost)
  redis.call('PEXPIRE', KEYS[6], tonumber(ARGV[6]))
  redis.call('INCRBY', KEYS[7], cost)
  redis.call('PEXPIRE', KEYS[7], tonumber(ARGV[7]))
end
purge(now)
return 1
`);

export interface RedisLimitStoreOptions {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
  connectTimeoutMs?: number;
}

const unavailable = (cause: unknown) =>
  new GatewayError({
    status: 503,
    message: 'The rate limiter is unavailable; try again shortly.',
    code: 'limits_unavailable',
    headers: { 'retry-after': '1' },
    cause,
  });

/** Periods are kept a day past their end, so a clock skew between replicas cannot reset them early. */
const KEEP_MS = 24 * 3600_000;

export class RedisLimitStore implements LimitStore {
  readonly type = 'redis';
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(options: RedisLimitStoreOptions) {
    if (/[{}]/.test(options.keyPrefix)) throw new TypeError(`redis limit store: keyPrefix must not contain "{" or "}", got "${options.keyPrefix}"`);
    this.#prefix = options.keyPrefix;
    this.#redis = new Redis(options.url, { commandTimeout: options.commandTimeoutMs, connectTimeout: options.connectTimeoutMs, maxRetriesPerRequest: 0, lazyConnect: false });
    this.#redis.on('error', () => {}); // surfaced per command as 503
  }

  #keys(tenant: string, periods: BudgetPeriods): string[] {
    const base = `${this.#prefix}{${encodeURIComponent(tenant)}}:`;
    return [`${base}rpm`, `${base}tpm`, `${base}tpm:n`, `${base}tpm:sum`, `${base}slots`, `${base}usd:${periods.day}`, `${base}usd:${periods.month}`];
  }

  async #run(script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await script.run(this.#redis, keys, args);
    } catch (err) {
      throw unavailable(err);
    }
  }

  async admit(input: AdmitInput): Promise<Admission> {
    const b = input.budget;
    const periods: BudgetPeriods = b ?? { day: '-', month: '-', dayEndsAt: 0, monthEndsAt: 0 };
    const reply = (await this.#run(admitScript, this.#keys(input.tenant, periods), [
      input.now,
      input.leaseId,
      input.requestsPerMinute ?? 0,
      input.tokensPerMinute ?? 0,
      input.tokens,
      input.concurrentRequests ?? 0,
      input.leaseTtlMs,
      b?.dayNano ?? 0,
      b?.monthNano ?? 0,
      periods.dayEndsAt,
      periods.monthEndsAt,
    ])) as [LimitName, number] | [];
    if (reply.length === 0) return { ok: true };
    return { ok: false, limit: reply[0], retryAfterMs: Math.max(0, Number(reply[1])) };
  }

  async settle(input: SettleInput): Promise<void> {
    const { periods } = input;
    await this.#run(settleScript, this.#keys(input.tenant, periods), [
      input.now,
      input.leaseId,
      input.tokens ?? -1,
      input.trackTokens ? 1 : 0,
      input.costNano ?? 0,
      periods.dayEndsAt - input.now + KEEP_MS,
      periods.monthEndsAt - input.now + KEEP_MS,
    ]);
  }

  async spend(tenant: string, periods: BudgetPeriods) {
    const keys = this.#keys(tenant, periods);
    try {
      const [day, month] = await this.#redis.mget(keys[5]!, keys[6]!);
      return { dayNano: Number(day ?? 0), monthNano: Number(month ?? 0) };
    } catch (err) {
      throw unavailable(err);
    }
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
