// A limiter whose Redis is gone fails closed: 503 with retry-after, never an unlimited pass.
import { expect, it } from 'vitest';
import { RedisLimitStore } from '../../src/limits/redis.js';
import { chat, json, limitedApp, post } from './helpers.js';

it('answers 503 limits_unavailable when Redis does not answer', async () => {
  const store = new RedisLimitStore({ url: 'redis://127.0.0.1:1', keyPrefix: 'x:', commandTimeoutMs: 200 });
  const g = limitedApp('default: { requestsPerMinute: 10 }', { store });
  try {
    const res = await post(g.app, chat());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await json(res)).error).toMatchObject({ code: 'limits_unavailable', type: 'service_unavailable_error' });
    expect(g.limiter.inFlight).toBe(0);
  } finally {
    await g.limiter.close();
  }
});
