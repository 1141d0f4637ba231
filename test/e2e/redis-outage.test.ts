// Redis dies while the gateway runs: stateful requests get a clean 503 with retry-after, stateless
// traffic is unaffected, /readyz reports the dependency; when Redis is back, sessions work again.
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisRelay, requireRedis, REDIS_URL } from '../helpers/redis.js';
import { KEY, startStack, type Stack } from '../helpers/stack.js';

const hasRedis = await requireRedis();
let stack: Stack;
let relay: Awaited<ReturnType<typeof redisRelay>>;
let port: number;
beforeAll(async () => {
  if (!hasRedis) return;
  relay = await redisRelay(new URL(REDIS_URL));
  port = await relay.start();
  stack = await startStack({ sessionsYaml: `sessions:\n  store: { type: redis, url: "redis://127.0.0.1:${port}", keyPrefix: "stateroute-outage-${randomUUID()}:" }` });
});
afterAll(async () => {
  await stack?.close();
  await relay?.stop().catch(() => {});
});

describe.skipIf(!hasRedis)('Redis outage', () => {
  it('503 for sessions, stateless unaffected, readiness degraded, recovery after restart', async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
    const session = { headers: { 'x-session-id': 'outage' } };
    const ask = [{ role: 'user' as const, content: 'hi' }];
    await client.chat.completions.create({ model: 'gpt-4o', messages: ask }, session);
    expect((await fetch(`${stack.url}/readyz`)).status).toBe(200);

    await relay.stop();
    const err = await client.chat.completions.create({ model: 'gpt-4o', messages: ask }, session).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(503);
    expect(err.code).toBe('session_store_unavailable');
    expect(err.headers.get('retry-after')).toBeTruthy();
    const stateless = await client.chat.completions.create({ model: 'gpt-4o', messages: ask });
    expect(stateless.choices[0]!.message.content).toBeTruthy();
    const ready = await fetch(`${stack.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, boolean> }).checks.sessions).toBe(false);

    await relay.start(port);
    const again = [{ role: 'user' as const, content: 'back again' }];
    await expect
      .poll(async () => (await client.chat.completions.create({ model: 'gpt-4o', messages: again }, session).then(() => 'ok', (e) => String(e.status))), { timeout: 10_000, interval: 250 })
      .toBe('ok');
    const stored = await client.get<{ messages: unknown[] }>('/sessions/outage');
    expect(stored.messages).toHaveLength(4);
  });
});
