// The Redis store: the same contract as memory, and counters shared by every gateway process.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLimitStore } from '../../src/limits/redis.js';
import { REDIS_URL, requireRedis } from '../helpers/redis.js';
import { KEY, startStack, type Stack } from '../helpers/stack.js';
import { chat, json, limitedApp, post } from './helpers.js';
import { limitStoreContract } from './store-contract.js';

const run = await requireRedis();
const prefix = () => `stateroute-test:limits:${randomUUID()}:`;
afterAll(async () => {
  if (!run) return;
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys('stateroute-test:limits:*');
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});
const redisStore = (keyPrefix: string) => new RedisLimitStore({ url: REDIS_URL, keyPrefix, commandTimeoutMs: 1000 });

describe.runIf(run)('Redis limit store', () => {
  limitStoreContract('redis', async () => redisStore(prefix()));

  it('two limiters on two Redis connections share one tenant window', async () => {
    const p = prefix();
    const one = limitedApp('default: { requestsPerMinute: 4, concurrentRequests: 1 }', { store: redisStore(p) });
    const two = limitedApp('default: { requestsPerMinute: 4, concurrentRequests: 1 }', { store: redisStore(p) });
    two.clock.now = one.clock.now;
    try {
      // A stream on one holds the tenant's only slot for both.
      one.stateless.script = { reply: 'a b c', chunkDelayMs: 5 };
      const held = await post(one.app, chat({ stream: true }));
      const busy = await post(two.app, chat());
      expect(busy.status).toBe(429);
      expect((await json(busy)).error.code).toBe('concurrent_requests');
      await held.text();
      await one.settled();
      for (const g of [two, one, two]) {
        expect((await post(g.app, chat())).status).toBe(200);
        await g.settled();
      }
      const res = await post(one.app, chat()); // the 5th request of the minute, whichever process
      expect(res.status).toBe(429);
      expect((await json(res)).error.code).toBe('requests_per_minute');
      expect(res.headers.get('retry-after')).toBe('60');
    } finally {
      await Promise.all([one.limiter.close(), two.limiter.close()]);
    }
  });
});

describe.runIf(run)('budget shared through Redis', () => {
  it('spend metered on one process counts on the other', async () => {
    const p = prefix();
    const one = limitedApp('default: { budgetUsd: { day: 0.02 } }', { store: redisStore(p) });
    const two = limitedApp('default: { budgetUsd: { day: 0.02 } }', { store: redisStore(p) });
    two.clock.now = one.clock.now; // 12:00 UTC
    try {
      for (const g of [one, two]) {
        expect((await post(g.app, chat())).status).toBe(200); // $0.013 each
        await g.settled();
      }
      const res = await post(one.app, chat());
      expect(res.status).toBe(429);
      expect((await json(res)).error.code).toBe('budget_usd_day');
      expect(res.headers.get('retry-after')).toBe(String(12 * 3600));
    } finally {
      await Promise.all([one.limiter.close(), two.limiter.close()]);
    }
  });
});

describe.runIf(run)('two gateway processes, limits in Redis', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      replicas: 2,
      extraYaml: `limits:\n  store: { type: redis, url: "${REDIS_URL}", keyPrefix: "${prefix()}" }\n  default: { requestsPerMinute: 3 }\n  tenants: { globex: { requestsPerMinute: null } }`,
    });
  });
  afterAll(() => stack?.close());

  const ask = (url: string) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(chat({ model: 'gpt-4o' })),
    });

  it('a tenant over its limit on one replica is over it on the other', async () => {
    const [a, b] = stack.gateways.map((g) => g.url) as [string, string];
    for (const url of [a, b, a]) expect((await ask(url)).status).toBe(200);
    for (const url of [b, a]) {
      const res = await ask(url);
      expect(res.status).toBe(429);
      const retry = Number(res.headers.get('retry-after'));
      expect(retry).toBeGreaterThanOrEqual(59);
      expect(retry).toBeLessThanOrEqual(60);
      expect((await json(res)).error).toMatchObject({ type: 'rate_limit_error', code: 'requests_per_minute', message: expect.stringContaining('limit 3') });
    }
  });
});
