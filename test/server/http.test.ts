// The gateway over real HTTP, driven by the official openai client as users drive it.
import { request } from 'node:http';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { listen, type Listening } from '../../src/server/serve.js';
import { fakeGateway, TEST_KEY } from '../helpers/app.js';

let server: Listening | undefined;
afterEach(async () => {
  await server?.drain(0);
  server = undefined;
});

async function start() {
  const g = fakeGateway();
  server = await listen(g.app, { host: '127.0.0.1', port: 0 });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${server.url}/v1`, maxRetries: 0 });
  return { ...g, client, url: server.url };
}

describe('gateway over HTTP with the openai client', () => {
  it('chat, non-stream and stream', async () => {
    const { client } = await start();
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]!.message.content).toBe('Hello from fake.');
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello from fake.');
    expect(usage).toEqual({ prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 });
  });

  it('raises the SDK error classes', async () => {
    const { client, stateless, url } = await start();
    const bad = new OpenAI({ apiKey: 'sk-wrong-wrong-wrong-wrong', baseURL: `${url}/v1`, maxRetries: 0 });
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.models.retrieve('nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    stateless.script = { error: new GatewayError({ status: 429, message: 'slow down', headers: { 'retry-after': '1' } }) };
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    stateless.script = { error: new GatewayError({ status: 503, message: 'down' }) };
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('a mid-stream failure is raised by the SDK while iterating', async () => {
    const { client, stateless } = await start();
    stateless.script = { reply: 'a b c d', failAfter: 2, streamError: new GatewayError({ status: 502, message: 'cut', code: 'upstream_stream_error' }) };
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      })(),
    ).rejects.toThrow(/cut/);
    expect(text).toBe('a b ');
  });

  it('enforces the body limit on a chunked body without Content-Length', async () => {
    const { url, stateless } = await start();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.write('{"model":"gpt-4o","messages":[{"role":"user","content":"');
      for (let i = 0; i < 10; i++) req.write('x'.repeat(512));
      req.end('"}]}');
    });
    expect(status).toBe(413);
    expect(stateless.calls).toHaveLength(0);
  });

  it('client disconnect mid-stream aborts the upstream call and is metered', async () => {
    const { url, stateless, meter } = await start();
    stateless.script = { reply: 'w '.repeat(200), chunkDelayMs: 10 };
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', signal: controller.signal, headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true }) });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    await expect.poll(() => meter.records.length, { timeout: 2000 }).toBe(1);
    expect(meter.records[0]).toMatchObject({ status: 499, errorType: 'client_closed' });
    await expect.poll(() => stateless.aborted, { timeout: 2000 }).toBe(1);
  });

  it('drain lets an in-flight stream finish before closing', async () => {
    const { url, stateless } = await start();
    stateless.script = { reply: 'a b c d e f g h i j ', chunkDelayMs: 40 };
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true }) });
    const draining = server!.drain(5000);
    const text = await res.text();
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    expect(await draining).toEqual({ forced: 0 });
    server = undefined;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
