// Each limit through the real app: under it passes, over it gets 429 (OpenAI shape, the limit named,
// the exact retry-after), and every way a request ends gives its concurrency slot back.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { promptTokens } from '../../src/limits/estimate.js';
import { chat, COST_PER_REQUEST, json, KEY_B, limitedApp, post } from './helpers.js';

const S = 1000;

async function expect429(res: Response, code: string, retryAfterS: number, text: RegExp) {
  expect(res.status).toBe(429);
  const body = (await json(res)) as { error: { type: string; code: string; message: string } };
  expect(body.error).toMatchObject({ type: 'rate_limit_error', code });
  expect(body.error.message).toMatch(text);
  expect(res.headers.get('retry-after')).toBe(String(retryAfterS));
  return body;
}

describe('requests per minute (sliding 60 s window)', () => {
  it('admits the limit, refuses the next with the seconds until the oldest request leaves the window', async () => {
    const g = limitedApp('default: { requestsPerMinute: 3 }');
    const t0 = g.clock.now;
    for (const dt of [0, 10, 20]) {
      g.clock.now = t0 + dt * S;
      expect((await post(g.app, chat())).status).toBe(200);
    }
    g.clock.now = t0 + 30 * S;
    const res = await post(g.app, chat());
    await expect429(res, 'requests_per_minute', 30, /requests per minute \(limit 3\)/);
    expect(res.headers.get('retry-after-ms')).toBe('30000');
    g.clock.now = t0 + 60 * S; // the first request has left the window
    expect((await post(g.app, chat())).status).toBe(200);
    g.clock.now = t0 + 61 * S;
    await expect429(await post(g.app, chat()), 'requests_per_minute', 9, /limit 3/);
  });

  it('counts every /v1 request, model call or not, and per tenant', async () => {
    const g = limitedApp('default: { requestsPerMinute: 1 }');
    const models = () => g.app.request('/v1/models', { headers: { authorization: `Bearer ${KEY_B}` } });
    expect((await models()).status).toBe(200);
    expect((await models()).status).toBe(429);
    expect((await post(g.app, chat())).status).toBe(200); // acme has its own window
  });

  it('a tenant override replaces the default, null lifts it', async () => {
    const g = limitedApp('default: { requestsPerMinute: 1 }\ntenants: { globex: { requestsPerMinute: null } }');
    for (let i = 0; i < 5; i++) expect((await post(g.app, chat(), { key: KEY_B })).status).toBe(200);
    expect((await post(g.app, chat())).status).toBe(200);
    expect((await post(g.app, chat())).status).toBe(429);
  });
});

describe('tokens per minute (estimated before, reconciled after)', () => {
  it('reserves the estimate, replaces it with the real usage, and says when enough tokens free up', async () => {
    const g = limitedApp('default: { tokensPerMinute: 300 }');
    const body = chat({ max_tokens: 200 });
    expect(promptTokens(body)).toBe(4); // "gpt-4o" "user" "Hi" = 12 chars → 3, plus 1 for the number
    const t0 = g.clock.now;
    expect((await post(g.app, body)).status).toBe(200); // reserves 204, settles to 13 real tokens
    await g.settled();
    // Without reconciliation 204 + 204 > 300.
    expect((await post(g.app, body)).status).toBe(200);
    await g.settled();
    g.clock.now = t0 + 5 * S;
    // 26 used + 284 asked > 300: the first request's 13 tokens free the room, 55 s from now.
    await expect429(await post(g.app, chat({ max_tokens: 280 })), 'tokens_per_minute', 55, /tokens per minute \(limit 300\)/);
    g.clock.now = t0 + 60 * S;
    expect((await post(g.app, chat({ max_tokens: 280 }))).status).toBe(200);
  });

  it('a request larger than the whole limit is refused without a retry hint', async () => {
    const g = limitedApp('default: { tokensPerMinute: 300 }');
    const res = await post(g.app, chat({ max_completion_tokens: 400 }));
    expect(res.status).toBe(429);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(res.headers.get('retry-after')).toBeNull();
    expect((await json(res)).error).toMatchObject({ type: 'rate_limit_error', code: 'tokens_per_minute', message: expect.stringMatching(/estimated 404 tokens.*limit of 300/) });
  });

  it('a request naming no output size reserves defaultOutputTokens', async () => {
    const g = limitedApp('default: { tokensPerMinute: 1000 }\ndefaultOutputTokens: 1000');
    expect((await post(g.app, chat())).status).toBe(429); // 3 + 1000 > 1000
  });
});

describe('concurrent requests', () => {
  const streamBody = chat({ stream: true });

  it('holds the slot while a stream runs and frees it when the stream ends', async () => {
    const g = limitedApp('default: { concurrentRequests: 1 }');
    g.stateless.script = { reply: 'one two three', chunkDelayMs: 5 };
    const first = await post(g.app, streamBody);
    expect(first.status).toBe(200);
    await expect429(await post(g.app, chat()), 'concurrent_requests', 1, /concurrent requests \(limit 1\)/);
    expect(await first.text()).toContain('[DONE]');
    await g.settled();
    expect(g.limiter.inFlight).toBe(0);
    expect((await post(g.app, chat())).status).toBe(200);
  });

  it('frees the slot when the client stops reading a stream', async () => {
    const g = limitedApp('default: { concurrentRequests: 1 }');
    g.stateless.script = { reply: 'one two three four five', chunkDelayMs: 20 };
    const first = await post(g.app, streamBody);
    const reader = first.body!.getReader();
    await reader.read();
    await reader.cancel();
    await g.settled();
    expect(g.limiter.inFlight).toBe(0);
    expect((await post(g.app, chat())).status).toBe(200);
  });

  it('frees the slot of a Responses-API stream the client stops reading, and of one read to its end', async () => {
    const g = limitedApp('default: { concurrentRequests: 1 }');
    g.stateful.script = { reply: 'one two three four five', chunkDelayMs: 20 };
    const body = { model: 'gpt-4o', input: 'Hi', stream: true };
    const first = await post(g.app, body, { path: '/v1/responses' });
    expect(first.status).toBe(200);
    expect((await post(g.app, body, { path: '/v1/responses' })).status).toBe(429);
    const reader = first.body!.getReader();
    await reader.read();
    await reader.cancel();
    await g.settled();
    expect(g.limiter.inFlight).toBe(0);
    g.stateful.script = { reply: 'one two' };
    expect(await (await post(g.app, body, { path: '/v1/responses' })).text()).toContain('response.completed');
    await g.settled();
    expect(g.limiter.inFlight).toBe(0);
  });

  it('frees the slot on an upstream error, a stream error, a 400 and a non-model request', async () => {
    const g = limitedApp('default: { concurrentRequests: 1 }');
    g.stateless.script = { error: new GatewayError({ status: 502, message: 'upstream down', code: 'upstream_error' }) };
    expect((await post(g.app, chat())).status).toBe(502);
    g.stateless.script = { reply: 'a b c', streamError: new GatewayError({ status: 502, message: 'cut' }), failAfter: 1 };
    await (await post(g.app, streamBody)).text();
    await g.settled();
    expect((await post(g.app, { model: 'gpt-4o' })).status).toBe(400);
    expect((await g.app.request('/v1/models', { headers: { authorization: `Bearer ${'sk-limits-acme-0123456789'}` } })).status).toBe(200);
    expect((await post(g.app, chat(), { path: '/v1/nowhere' })).status).toBe(404);
    await g.settled();
    expect(g.limiter.inFlight).toBe(0);
    g.stateless.script = {};
    expect((await post(g.app, chat())).status).toBe(200);
  });

  it('two requests in flight with one client-chosen request id each settle their own slot', async () => {
    const g = limitedApp('default: { concurrentRequests: 2 }');
    g.stateless.script = { reply: 'one two three', chunkDelayMs: 5 };
    const headers = { 'x-request-id': 'same-id' };
    const a = await post(g.app, streamBody, { headers });
    const b = await post(g.app, chat(), { headers }); // JSON, ends first: must not release a's slot
    expect(b.status).toBe(200);
    expect(b.headers.get('x-request-id')).not.toBe('same-id');
    await g.settled();
    expect(g.limiter.inFlight).toBe(1);
    await a.text();
    await g.settled();
    expect(g.limiter.inFlight).toBe(0);
  });
});

describe('maxTokens ceiling', () => {
  it('refuses a request asking more with 400 naming the limit, passes one at the ceiling', async () => {
    const g = limitedApp('default: { maxTokens: 100 }');
    const res = await post(g.app, chat({ max_tokens: 101 }));
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: 'max_tokens_above_limit', param: 'max_tokens', message: expect.stringMatching(/101.*limit of 100/) });
    expect((await post(g.app, chat({ max_completion_tokens: 100 }))).status).toBe(200);
    expect((await post(g.app, chat({ max_output_tokens: 5000, input: 'x' }), { path: '/v1/responses' })).status).toBe(400);
  });

  it('gives a request that asks nothing the ceiling, on chat and Responses', async () => {
    const g = limitedApp('default: { maxTokens: 100 }');
    expect((await post(g.app, chat())).status).toBe(200);
    expect(g.stateless.calls.at(-1)!.body.max_completion_tokens).toBe(100);
    const res = await post(g.app, { model: 'gpt-4o', input: 'Hi' }, { path: '/v1/responses' });
    expect((await json(res)).max_output_tokens).toBe(100);
    expect(g.stateful.calls.at(-1)!.body.max_tokens).toBe(100); // built-in routing sends Responses to the stateful backend
  });

  it('rejects a non-integer output size with 400 whatever the limits', async () => {
    const g = limitedApp('{}');
    for (const v of ['100', -1, 0, 1.5, true, [], {}]) {
      const res = await post(g.app, chat({ max_tokens: v }));
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe('invalid_type');
    }
    expect((await post(g.app, chat({ max_tokens: null }))).status).toBe(200);
  });
});

describe('USD budget (metered cost, UTC calendar periods)', () => {
  it('refuses model calls once the day budget is spent, until the next UTC day', async () => {
    const g = limitedApp('default: { budgetUsd: { day: 0.05 } }'); // clock: 12:00 UTC
    for (let i = 0; i < 4; i++) {
      expect((await post(g.app, chat())).status).toBe(200);
      await g.settled();
    }
    expect(g.ledger.records.map((r) => r.costUsd)).toEqual([COST_PER_REQUEST, COST_PER_REQUEST, COST_PER_REQUEST, COST_PER_REQUEST]);
    await expect429(await post(g.app, chat()), 'budget_usd_day', 12 * 3600, /USD budget per UTC day \(limit \$0.05\)/);
    expect((await g.app.request('/v1/models', { headers: { authorization: 'Bearer sk-limits-acme-0123456789' } })).status).toBe(200);
    expect((await post(g.app, chat(), { key: KEY_B })).status).toBe(200); // globex has its own budget
    g.clock.now += 12 * 3600 * S;
    expect((await post(g.app, chat())).status).toBe(200);
  });

  it('counts streamed spend, and the month budget until the first of the next month', async () => {
    const g = limitedApp('default: { budgetUsd: { month: 0.02 } }'); // 2026-11-25 12:00 UTC
    g.stateless.script = { reply: 'a b' };
    for (let i = 0; i < 2; i++) {
      await (await post(g.app, chat({ stream: true }))).text();
      await g.settled();
    }
    await expect429(await post(g.app, chat()), 'budget_usd_month', 5.5 * 24 * 3600, /per UTC month \(limit \$0.02\)/);
    g.clock.now = Date.UTC(2026, 11, 1);
    expect((await post(g.app, chat())).status).toBe(200);
  });
});
