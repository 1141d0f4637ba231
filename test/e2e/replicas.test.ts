// Two gateways sharing one Redis session store act as one: a session's turns alternate between them.
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRedis, REDIS_URL } from '../helpers/redis.js';
import { KEY, OTHER, startStack, type Stack } from '../helpers/stack.js';

const hasRedis = await requireRedis();
let stack: Stack;
beforeAll(async () => {
  if (!hasRedis) return;
  stack = await startStack({
    replicas: 2,
    sessionsYaml: `sessions:\n  store: { type: redis, url: "${REDIS_URL}", keyPrefix: "stateroute-test-${randomUUID()}:" }`,
  });
});
afterAll(() => stack?.close());

describe.skipIf(!hasRedis)('replicas sharing Redis', () => {
  it("alternating turns of one session across two gateways keep one history", async () => {
    const clients = stack.gateways.map((g) => new OpenAI({ apiKey: KEY, baseURL: `${g.url}/v1`, maxRetries: 0 }));
    for (let turn = 0; turn < 6; turn++) {
      const client = clients[turn % 2]!;
      await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `turn ${turn}` }] }, { headers: { 'x-session-id': 'shared' } });
      const sent = stack.bedrock.requests.at(-1)!.body as { messages: unknown[] };
      expect(sent.messages).toHaveLength(2 * turn + 1);
    }
    const stored = await clients[1]!.get<{ messages: { role: string; content: string }[]; turns: number }>('/sessions/shared');
    expect(stored.turns).toBe(6);
    expect(stored.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([0, 1, 2, 3, 4, 5].map((t) => `turn ${t}`));
  });

  it('concurrent turns on one session through both replicas never interleave', async () => {
    const clients = stack.gateways.map((g) => new OpenAI({ apiKey: KEY, baseURL: `${g.url}/v1`, maxRetries: 0 }));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        clients[i % 2]!.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `c${i}` }] }, { headers: { 'x-session-id': 'race' } }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(OpenAI.ConflictError);
    const stored = await clients[0]!.get<{ messages: { role: string }[] }>('/sessions/race');
    expect(stored.messages).toHaveLength(ok * 2);
    stored.messages.forEach((m, i) => expect(m.role).toBe(i % 2 === 0 ? 'user' : 'assistant'));
  });

  it("tenant B gets 404 on tenant A's session through the other replica", async () => {
    const a = new OpenAI({ apiKey: KEY, baseURL: `${stack.gateways[0]!.url}/v1`, maxRetries: 0 });
    const b = new OpenAI({ apiKey: OTHER, baseURL: `${stack.gateways[1]!.url}/v1`, maxRetries: 0 });
    await a.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'mine' }] }, { headers: { 'x-session-id': 'iso' } });
    await expect(b.get('/sessions/iso')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});
