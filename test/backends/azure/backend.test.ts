import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { Stream } from 'openai/streaming';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { batchesOf } from '../../../src/backends/types.js';
import { SSE_DONE, sseData } from '../../../src/streaming/sse.js';
import { startAzureSimulator, type AzureSimulator } from '../../../src/simulators/azure/index.js';
import { startRechunkProxy } from '../../simulators/azure/rechunk-proxy.js';
import { API_KEY, asStream, azure, chatCall, compatible, contentOf, ctx, drain } from './helpers.js';

let sim: AzureSimulator;
const deployments = { 'gpt-4o': 'chat', 'text-embedding-3-small': 'embed', ghost: 'no-such-deployment' };

beforeAll(async () => {
  sim = await startAzureSimulator({ apiKey: API_KEY, deployments: { chat: 'gpt-4o-2024-08-06', embed: 'text-embedding-3-small' } });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.faults.clear();
});

// "Hello there": prompt 3 + 4 + ceil(11/4) = 10; "You said: Hello there" = 4 words.
const helloUsage = { input: 10, output: 4, cacheRead: 0, cacheWrite: 0, reasoning: 0 };

describe('azure-openai backend, deployments surface', () => {
  it('answers JSON with normalised usage, the answering model and upstream headers', async () => {
    const backend = azure({ endpoint: sim.url, deployments });
    expect(backend.provider).toBe('azure.ai.openai');
    expect(backend.models()).toEqual(['gpt-4o', 'text-embedding-3-small', 'ghost']);
    const result = await backend.chat(chatCall('Hello there', { extra: { stream_options: { include_usage: true } } }), ctx());
    if (result.type !== 'json') throw new Error('expected json');
    expect(result.status).toBe(200);
    expect(result.model).toBe('gpt-4o-2024-08-06');
    expect(result.usage).toEqual(helloUsage);
    expect((result.body.choices as { message: { content: string } }[])[0]?.message.content).toBe('You said: Hello there');
    expect(result.headers['apim-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.headers['x-upstream-request-id']).toBe(result.headers['apim-request-id']);
    expect(result.headers['x-ratelimit-remaining-tokens']).toBe('149000');
    expect(result.headers['content-type']).toBeUndefined();

    const sent = sim.requests.at(-1)!;
    expect(sent.path).toBe('/openai/deployments/chat/chat/completions');
    expect(sent.query).toEqual({ 'api-version': '2024-10-21' });
    expect(sent.headers['api-key']).toBe(API_KEY);
    expect(sent.body).toEqual({ model: 'chat', messages: [{ role: 'user', content: 'Hello there' }] }); // stream_options dropped
  });

  it('keeps cached tokens out of input and reads reasoning tokens', async () => {
    sim.faults.push({
      status: 200,
      body: {
        id: 'x', object: 'chat.completion', created: 1, model: 'o3-mini-2025-01-31',
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
        usage: { prompt_tokens: 100, completion_tokens: 30, total_tokens: 130, prompt_tokens_details: { cached_tokens: 40 }, completion_tokens_details: { reasoning_tokens: 12 } },
      },
    });
    const result = await azure({ endpoint: sim.url, deployments }).chat(chatCall('hi'), ctx());
    expect(result.usage).toEqual({ input: 60, output: 30, cacheRead: 40, cacheWrite: 0, reasoning: 12 });
    expect(result.model).toBe('o3-mini-2025-01-31');
  });

  it('streams raw chunks, always collects usage, and drops the usage chunk the client did not ask for', async () => {
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('Hello there', { stream: true }), ctx()));
    expect(result.headers['apim-request-id']).toBeDefined();
    expect(result.usage()).toBeUndefined();
    const { chunks, error } = await drain(result);
    expect(error).toBeUndefined();
    expect(chunks).toHaveLength(7); // filter chunk, role, 4 words, finish
    expect(contentOf(chunks)).toBe('You said: Hello there');
    expect(chunks.every((c) => !c.json.includes('"usage":{'))).toBe(true);
    expect(chunks[0]?.json).toContain('"prompt_filter_results"');
    expect(chunks[1]?.value).toBeUndefined(); // passed through without parsing
    expect(result.usage()).toEqual(helloUsage);
    expect(result.model).toBe('gpt-4o-2024-08-06');
    expect(sim.requests.at(-1)?.body).toMatchObject({ model: 'chat', stream: true, stream_options: { include_usage: true } });
  });

  it('streams the usage chunk when the client asked for it', async () => {
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('Hello there', { stream: true, clientUsage: true }), ctx()));
    const { chunks, error } = await drain(result);
    expect(error).toBeUndefined();
    expect(chunks).toHaveLength(8);
    const last = chunks.at(-1)!;
    expect(last.value).toMatchObject({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 } });
    expect(JSON.parse(last.json)).toEqual(last.value);
    expect(result.usage()).toEqual(helloUsage);
  });

  it('its chunks, written as SSE, parse in the openai SDK like the upstream stream', async () => {
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('Hello there', { stream: true, clientUsage: true }), ctx()));
    const { chunks } = await drain(result);
    const wire = chunks.map((c) => sseData(c.json)).join('') + SSE_DONE;
    const parsed: ChatCompletionChunk[] = [];
    for await (const c of Stream.fromSSEResponse<ChatCompletionChunk>(new Response(wire), new AbortController())) parsed.push(c);
    expect(parsed.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('You said: Hello there');
    expect(parsed.at(-1)?.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 4 });
  });

  it('decodes a stream whose bytes arrive 1–7 at a time', async () => {
    const proxy = await startRechunkProxy(sim.url, 11);
    try {
      const text = 'Grüße — ✓ 🎉 over a torn connection';
      const result = asStream(await azure({ endpoint: proxy.url, deployments }).chat(chatCall(text, { stream: true, clientUsage: true }), ctx()));
      const { chunks, error } = await drain(result);
      expect(error).toBeUndefined();
      expect(contentOf(chunks)).toBe(`You said: ${text}`);
      // prompt 3 + 4 + ceil(text.length / 4); answer = 2 + words of text
      expect(result.usage()).toEqual({ ...helloUsage, input: 7 + Math.ceil(text.length / 4), output: 2 + text.split(' ').length });
    } finally {
      await proxy.close();
    }
  });

  it('streams tool calls through untouched', async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('please lookup cats', { stream: true, extra: { tools } }), ctx()));
    const { chunks } = await drain(result);
    const args = chunks
      .map((c) => (JSON.parse(c.json) as { choices: { delta?: { tool_calls?: { function?: { arguments?: string } }[] } }[] }).choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '')
      .join('');
    expect(args).toBe(JSON.stringify({ q: 'please lookup cats' }));
    expect(chunks.some((c) => c.json.includes('"finish_reason":"tool_calls"'))).toBe(true);
    // ceil(("lookup" + args).length / 4) + 1
    expect(result.usage()?.output).toBe(Math.ceil(('lookup' + args).length / 4) + 1);
  });

  it('answers embeddings with usage', async () => {
    const backend = azure({ endpoint: sim.url, deployments });
    const result = await backend.embeddings!({ model: 'text-embedding-3-small', body: { model: 'text-embedding-3-small', input: ['hello', 'world!!'] } }, ctx());
    expect(result.usage).toEqual({ input: 4, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
    expect(result.model).toBe('text-embedding-3-small');
    const data = result.body.data as { embedding: number[] }[];
    expect(data).toHaveLength(2);
    expect(data[0]?.embedding).toHaveLength(8);
    expect(sim.requests.at(-1)?.path).toBe('/openai/deployments/embed/embeddings');
  });
});

describe('azure-openai backend, v1 surface and openai-compatible', () => {
  it('v1: model in the body, api-key header, no bearer, no api-version', async () => {
    const backend = azure({ endpoint: `${sim.url}/`, surface: 'v1', apiVersion: undefined, deployments });
    const result = await backend.chat(chatCall('Hello there'), ctx());
    expect(result.usage).toEqual(helloUsage);
    const sent = sim.requests.at(-1)!;
    expect(sent.path).toBe('/openai/v1/chat/completions');
    expect(sent.query).toEqual({});
    expect(sent.headers['api-key']).toBe(API_KEY);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toMatchObject({ model: 'chat' });
  });

  it('openai-compatible: same code with a base URL and bearer auth', async () => {
    const backend = compatible({ baseURL: `${sim.url}/openai/v1`, models: { 'my-model': 'chat', 'my-embed': 'embed' } });
    expect(backend.provider).toBe('openai');
    const result = asStream(await backend.chat(chatCall('Hello there', { model: 'my-model', stream: true }), ctx()));
    const { chunks, error } = await drain(result);
    expect(error).toBeUndefined();
    expect(contentOf(chunks)).toBe('You said: Hello there');
    expect(result.usage()).toEqual(helloUsage);
    expect(sim.requests.at(-1)?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    const emb = await backend.embeddings!({ model: 'my-embed', body: { model: 'my-embed', input: 'hello' } }, ctx());
    expect(emb.usage?.input).toBe(2);
  });

  it('config: the deployments surface needs an apiVersion, v1 refuses one', () => {
    expect(() => azure({ endpoint: sim.url, apiVersion: undefined })).toThrow(/apiVersion/);
    expect(() => azure({ endpoint: sim.url, apiVersion: undefined, surface: 'v1' })).not.toThrow();
    expect(() => azure({ endpoint: sim.url, surface: 'v1' })).toThrow(/not used by the v1 surface/);
  });

  it('a consumer that stops early cancels the upstream body (the connection is not left open)', async () => {
    sim.faults.push({ delayBetweenChunksMs: 30 });
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('one two three four five six', { stream: true }), ctx()));
    let seen = 0;
    for await (const batch of batchesOf(result)) if ((seen += batch.length) >= 2) break;
    const record = sim.requests.at(-1)!;
    await expect.poll(() => record.outcome, { timeout: 2_000 }).toBe('closed-early');
  });
});
