// Failure handling through the app: the response names the fallback that answered, and the meter
// records the answering backend and model with its usage.
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { listen, type Listening } from '../../src/server/serve.js';
import { fakeGateway, TEST_KEY } from '../helpers/app.js';
import { FakeBackend } from '../helpers/fake-backend.js';
import { fastPolicy } from './helpers.js';

const auth = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
const post = (body: unknown) => ({ method: 'POST', headers: auth, body: JSON.stringify(body) });
const hello = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };

/** The fake gateway with a route whose fallback is a second stateless backend. The routing stub
 * ignores `fallbacks` and the route schema has no `resilience` yet, so both are set on the runtime. */
function gatewayWithFallback(acceptsPrefill: boolean) {
  const g = fakeGateway();
  const backup = new FakeBackend('azure-b', 'stateless', ['gpt-4o-mini']);
  (g.runtime.backends as Map<string, FakeBackend>).set('azure-b', backup);
  g.runtime.router = {
    decide: () => ({ route: 'chat', rule: 'all', kind: 'stateless', target: { backend: 'azure' }, fallbacks: [{ backend: 'azure-b', model: 'gpt-4o-mini', acceptsPrefill }] }),
  } as unknown as typeof g.runtime.router;
  (g.runtime.config as { routes?: unknown }).routes = { chat: { resilience: fastPolicy({ retries: { maxAttempts: 2 }, timeouts: { headersMs: 200 } }) } };
  return { ...g, backup };
}

const events = (text: string) => text.trim().split('\n\n').map((e) => e.slice('data: '.length));

describe('failure handling through the gateway', () => {
  it('a healthy primary: no fallback header', async () => {
    const { app } = gatewayWithFallback(false);
    const res = await app.request('/v1/chat/completions', post(hello));
    expect(res.status).toBe(200);
    expect(res.headers.has('x-stateroute-fallback')).toBe(false);
  });

  it('the fallback answers a failing primary; the response and the meter name it', async () => {
    const { app, stateless, backup, meter } = gatewayWithFallback(false);
    stateless.script = { error: new GatewayError({ status: 503, message: 'down' }) };
    backup.script = { usage: { input: 21, output: 4, cacheRead: 0, cacheWrite: 0, reasoning: 0 } };
    const res = await app.request('/v1/chat/completions', post(hello));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-stateroute-fallback')).toBe('azure-b/gpt-4o-mini');
    const body = (await res.json()) as { model: string };
    expect(body.model).toBe('gpt-4o-mini-fake');
    expect(stateless.calls).toHaveLength(2);
    expect(backup.calls.map((c) => c.model)).toEqual(['gpt-4o-mini']);
    expect(meter.records).toHaveLength(1);
    expect(meter.records[0]).toMatchObject({ status: 200, backend: 'azure-b', modelRequested: 'gpt-4o', modelAnswered: 'gpt-4o-mini-fake', usage: { input: 21, output: 4 } });
  });

  it('a streamed answer from the fallback carries the header too', async () => {
    const { app, stateless, meter } = gatewayWithFallback(false);
    stateless.script = { hang: true };
    const res = await app.request('/v1/chat/completions', post({ ...hello, stream: true }));
    expect(res.headers.get('x-stateroute-fallback')).toBe('azure-b/gpt-4o-mini');
    const text = await res.text();
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    expect(meter.records[0]).toMatchObject({ status: 200, backend: 'azure-b', modelAnswered: 'gpt-4o-mini-fake' });
  });

  it('a stream cut mid-way and continued by a prefill-capable fallback: one complete answer, metered to the fallback', async () => {
    const { app, stateless, backup, meter } = gatewayWithFallback(true);
    stateless.script = { reply: 'one two three four', failAfter: 2, streamError: new GatewayError({ status: 502, message: 'cut', code: 'upstream_stream_interrupted' }) };
    backup.script = { reply: 'three four', usage: { input: 30, output: 2, cacheRead: 0, cacheWrite: 0, reasoning: 0 } };
    const res = await app.request('/v1/chat/completions', post({ ...hello, stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.has('x-stateroute-fallback')).toBe(false); // the primary sent the first byte
    const data = events(await res.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('one two three four');
    expect(backup.calls[0]!.body.messages.at(-1)).toEqual({ role: 'assistant', content: 'one two' });
    expect(meter.records[0]).toMatchObject({ status: 200, backend: 'azure-b', modelAnswered: 'gpt-4o-mini-fake', usage: { input: 30, output: 2 } });
  });

  it('a stream cut mid-way without a prefill-capable fallback: an SSE error naming the failure, never [DONE]', async () => {
    const { app, stateless, backup, meter } = gatewayWithFallback(false);
    stateless.script = { reply: 'one two three four', failAfter: 2, streamError: new GatewayError({ status: 502, message: 'cut', code: 'upstream_stream_interrupted' }) };
    const res = await app.request('/v1/chat/completions', post({ ...hello, stream: true }));
    const data = events(await res.text());
    expect(data).not.toContain('[DONE]');
    const last = JSON.parse(data.at(-1)!);
    expect(last.error.code).toBe('upstream_stream_interrupted');
    expect(last.error.message).toContain('cut');
    expect(backup.calls).toHaveLength(0);
    expect(meter.records[0]).toMatchObject({ status: 502, backend: 'azure', errorType: 'upstream_stream_interrupted' });
    // The gateway is healthy afterwards.
    stateless.script = {};
    const again = await app.request('/v1/chat/completions', post({ ...hello, stream: true }));
    expect(events(await again.text()).at(-1)).toBe('[DONE]');
  });
});

describe('failure handling seen through the openai client', () => {
  let server: Listening | undefined;
  afterEach(async () => {
    await server?.drain(0);
    server = undefined;
  });

  async function client(acceptsPrefill: boolean) {
    const g = gatewayWithFallback(acceptsPrefill);
    server = await listen(g.app, { host: '127.0.0.1', port: 0 });
    return { ...g, openai: new OpenAI({ apiKey: TEST_KEY, baseURL: `${server.url}/v1`, maxRetries: 0 }) };
  }

  it('reads one complete answer from a stream continued by the fallback', async () => {
    const { openai, stateless, backup } = await client(true);
    stateless.script = { reply: 'Rivers run to the sea.', failAfter: 2, streamError: new GatewayError({ status: 502, message: 'cut', code: 'upstream_stream_interrupted' }) };
    backup.script = { reply: ' to the sea.' };
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(text).toBe('Rivers run to the sea.');
  });

  it('raises an error naming the original failure when no fallback may continue', async () => {
    const { openai, stateless } = await client(false);
    stateless.script = { reply: 'Rivers run to the sea.', failAfter: 2, streamError: new GatewayError({ status: 502, message: 'Upstream stream was cut.', code: 'upstream_stream_interrupted' }) };
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      })(),
    ).rejects.toThrow(/Upstream stream was cut/);
    expect(text).toBe('Rivers run ');
  });
});
