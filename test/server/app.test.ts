import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { fakeGateway, TEST_KEY } from '../helpers/app.js';

const auth = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
const chat = (body: unknown, headers: Record<string, string> = auth) => ({ method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
const hello = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };

function expectOpenAIError(json: any, code?: string) {
  expect(Object.keys(json)).toEqual(['error']);
  expect(typeof json.error.message).toBe('string');
  expect(json.error).toHaveProperty('type');
  expect(json.error).toHaveProperty('param');
  expect(json.error).toHaveProperty('code');
  if (code) expect(json.error.code).toBe(code);
}

describe('gateway core', () => {
  it('answers a chat completion and says which route and rule chose the backend', async () => {
    const { app, stateless, meter } = fakeGateway();
    const res = await app.request('/v1/chat/completions', chat(hello));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-stateroute-route')).toBeTruthy();
    expect(res.headers.get('x-stateroute-rule')).toBeTruthy();
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    const body = (await res.json()) as any;
    expect(body.choices[0].message.content).toBe('Hello from fake.');
    expect(stateless.calls).toHaveLength(1);
    expect(meter.records).toHaveLength(1);
    expect(meter.records[0]).toMatchObject({ tenant: 'acme', status: 200, operation: 'chat', modelRequested: 'gpt-4o', usage: { input: 10, output: 3 } });
  });

  it('echoes a well-formed caller request id and replaces a hostile one', async () => {
    const { app } = fakeGateway();
    const ok = await app.request('/v1/chat/completions', chat(hello, { ...auth, 'x-request-id': 'abc-123' }));
    expect(ok.headers.get('x-request-id')).toBe('abc-123');
    const bad = await app.request('/v1/chat/completions', chat(hello, { ...auth, 'x-request-id': 'a b<script>' }));
    expect(bad.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it.each([
    ['no key', {}, 'invalid_api_key'],
    ['wrong key', { authorization: 'Bearer sk-wrong-wrong-wrong-wrong' }, 'invalid_api_key'],
    ['malformed scheme', { authorization: `Basic ${TEST_KEY}` }, 'invalid_api_key'],
  ])('401 in OpenAI shape with %s', async (_name, headers, code) => {
    const { app, stateless } = fakeGateway();
    const res = await app.request('/v1/chat/completions', chat(hello, { 'content-type': 'application/json', ...headers }));
    expect(res.status).toBe(401);
    expectOpenAIError(await res.json(), code);
    expect(stateless.calls).toHaveLength(0);
  });

  it('accepts the key as api-key, as Azure clients send it', async () => {
    const { app } = fakeGateway();
    const res = await app.request('/v1/chat/completions', chat(hello, { 'api-key': TEST_KEY }));
    expect(res.status).toBe(200);
  });

  it.each([
    ['invalid JSON', '{"model":', 400, 'invalid_json', null],
    ['a JSON array', '[1,2]', 400, null, null],
    ['missing model', { messages: [{ role: 'user', content: 'x' }] }, 400, 'missing_required_parameter', 'model'],
    ['model of the wrong type', { model: 42, messages: [] }, 400, 'invalid_type', 'model'],
    ['missing messages', { model: 'gpt-4o' }, 400, 'missing_required_parameter', 'messages'],
    ['messages not an array', { model: 'gpt-4o', messages: 'hi' }, 400, 'invalid_type', 'messages'],
    ['empty messages', { model: 'gpt-4o', messages: [] }, 400, 'empty_array', 'messages'],
    ['a message without role', { model: 'gpt-4o', messages: [{ content: 'x' }] }, 400, 'invalid_type', 'messages[0]'],
    ['stream of the wrong type', { ...hello, stream: 'yes' }, 400, 'invalid_type', 'stream'],
    ['empty body', '', 400, null, null],
  ])('400 for %s', async (_name, body, status, code, param) => {
    const { app, stateless } = fakeGateway();
    const res = await app.request('/v1/chat/completions', chat(body));
    expect(res.status).toBe(status);
    const json = (await res.json()) as any;
    expectOpenAIError(json, code ?? undefined);
    if (param) expect(json.error.param).toBe(param);
    expect(json.error.type).toBe('invalid_request_error');
    expect(stateless.calls).toHaveLength(0);
  });

  it('413 for a body over the limit', async () => {
    const { app } = fakeGateway();
    const big = { ...hello, messages: [{ role: 'user', content: 'x'.repeat(4096) }] };
    const res = await app.request('/v1/chat/completions', chat(big));
    expect(res.status).toBe(413);
    expectOpenAIError(await res.json(), 'request_too_large');
  });

  it('404 for an unknown route and 405 for a wrong method, both OpenAI-shaped', async () => {
    const { app } = fakeGateway();
    const unknown = await app.request('/v1/nope', { headers: auth });
    expect(unknown.status).toBe(404);
    expectOpenAIError(await unknown.json(), 'unknown_url');
    const wrong = await app.request('/v1/chat/completions', { method: 'GET', headers: auth });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expectOpenAIError(await wrong.json(), 'method_not_allowed');
  });

  it('passes an upstream error through with its status and retry headers', async () => {
    const { app, stateless, meter } = fakeGateway();
    stateless.script = { error: new GatewayError({ status: 429, message: 'Rate limit reached.', code: '429', headers: { 'retry-after': '2', 'retry-after-ms': '1500' } }) };
    const res = await app.request('/v1/chat/completions', chat(hello));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.headers.get('retry-after-ms')).toBe('1500');
    const json = (await res.json()) as any;
    expect(json.error).toMatchObject({ type: 'rate_limit_error', message: 'Rate limit reached.' });
    expect(meter.records[0]).toMatchObject({ status: 429 });
  });

  it('hides the details of an unexpected failure behind a generic 500', async () => {
    const { app, stateless } = fakeGateway();
    stateless.chat = async () => {
      throw new Error('secret internal detail');
    };
    const res = await app.request('/v1/chat/completions', chat(hello));
    expect(res.status).toBe(500);
    const json = (await res.json()) as any;
    expectOpenAIError(json, 'internal_error');
    expect(JSON.stringify(json)).not.toContain('secret');
  });

  it('streams SSE chunks and ends with [DONE]', async () => {
    const { app, meter } = fakeGateway();
    const res = await app.request('/v1/chat/completions', chat({ ...hello, stream: true, stream_options: { include_usage: true } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello from fake.');
    expect(chunks.at(-1).usage).toEqual({ prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 });
    expect(meter.records).toHaveLength(1);
    expect(meter.records[0]).toMatchObject({ status: 200, stream: true, usage: { input: 10, output: 3 } });
  });

  it('ends a stream that fails midway with an error event, never [DONE]', async () => {
    const { app, stateless, meter } = fakeGateway();
    stateless.script = { reply: 'one two three four', failAfter: 2, streamError: new GatewayError({ status: 502, message: 'Upstream stream was cut.', code: 'upstream_stream_error' }) };
    const res = await app.request('/v1/chat/completions', chat({ ...hello, stream: true }));
    const text = await res.text();
    expect(text).not.toContain('[DONE]');
    const last = JSON.parse(text.trim().split('\n\n').at(-1)!.slice(6));
    expect(last).toEqual({ error: { message: 'Upstream stream was cut.', type: 'server_error', param: null, code: 'upstream_stream_error' } });
    expect(meter.records[0]).toMatchObject({ status: 502, errorType: 'upstream_stream_error' });
  });

  it('lists the models the backends expose', async () => {
    const { app } = fakeGateway();
    const res = await app.request('/v1/models', { headers: auth });
    const json = (await res.json()) as any;
    expect(json.object).toBe('list');
    expect(json.data.map((m: any) => m.id).sort()).toEqual(['claude', 'gpt-4o']);
    const one = await app.request('/v1/models/gpt-4o', { headers: auth });
    expect(((await one.json()) as any).id).toBe('gpt-4o');
    const missing = await app.request('/v1/models/nope', { headers: auth });
    expect(missing.status).toBe(404);
    expectOpenAIError(await missing.json(), 'model_not_found');
  });

  it('health needs no key; readiness reports its checks', async () => {
    const { app } = fakeGateway();
    expect((await app.request('/healthz')).status).toBe(200);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).checks).toMatchObject({ config: true, backends: true });
  });
});
