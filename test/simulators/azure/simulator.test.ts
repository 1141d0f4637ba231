// The real openai SDK (AzureOpenAI) against the simulator: if the SDK accepts it, the wire format is right.
import '@azure/openai/types';
import OpenAI, { AzureOpenAI } from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_FILTER_TRIGGER, startAzureSimulator, type AzureSimulator } from '../../../src/simulators/azure/index.js';
import { embed } from '../../../src/simulators/azure/completion.js';
import { startRechunkProxy, type RechunkProxy } from './rechunk-proxy.js';

const API_KEY = 'sim-key';
let sim: AzureSimulator;
let azure: AzureOpenAI;

beforeAll(async () => {
  sim = await startAzureSimulator({ apiKey: API_KEY, deployments: { chat: 'gpt-4o-2024-08-06', embed: 'text-embedding-3-small' } });
  azure = new AzureOpenAI({ endpoint: sim.url, apiKey: API_KEY, apiVersion: '2024-10-21', maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

const hello = [{ role: 'user' as const, content: 'Hello there' }];
// prompt = 3 + (4 + ceil(11/4)) = 10; answer "You said: Hello there" = 4 words
const helloUsage = { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 };

const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] } },
};

async function collect(stream: AsyncIterable<ChatCompletionChunk>) {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  const finish = chunks.map((c) => c.choices[0]?.finish_reason).find(Boolean);
  const usage = chunks.find((c) => c.usage)?.usage;
  const toolCalls: { id?: string; name?: string; arguments: string }[] = [];
  for (const c of chunks)
    for (const t of c.choices[0]?.delta.tool_calls ?? []) {
      const call = (toolCalls[t.index] ??= { arguments: '' });
      if (t.id) call.id = t.id;
      if (t.function?.name) call.name = t.function.name;
      call.arguments += t.function?.arguments ?? '';
    }
  return { chunks, content, finish, usage, toolCalls };
}

describe('Azure simulator through AzureOpenAI', () => {
  it('answers a chat completion with Azure fields and exact usage', async () => {
    const { data, response } = await azure.chat.completions.create({ model: 'chat', messages: hello }).withResponse();
    expect(data.choices[0]?.message.content).toBe('You said: Hello there');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.model).toBe('gpt-4o-2024-08-06');
    expect(data.usage).toMatchObject({ ...helloUsage, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } });
    expect(data.prompt_filter_results?.[0]?.content_filter_results?.jailbreak).toEqual({ filtered: false, detected: false });
    expect(data.choices[0]?.content_filter_results?.hate).toEqual({ filtered: false, severity: 'safe' });
    expect(response.headers.get('apim-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const recorded = sim.requests.at(-1);
    expect(recorded?.path).toBe('/openai/deployments/chat/chat/completions');
    expect(recorded?.query['api-version']).toBe('2024-10-21');
    expect(recorded?.headers['api-key']).toBe(API_KEY);
    await expect.poll(() => recorded?.outcome).toBe('finished');
  });

  it('respects max_tokens with finish_reason length', async () => {
    const data = await azure.chat.completions.create({ model: 'chat', messages: hello, max_tokens: 2 });
    expect(data.choices[0]?.message.content).toBe('You said: ');
    expect(data.choices[0]?.finish_reason).toBe('length');
    expect(data.usage?.completion_tokens).toBe(2);
  });

  it('streams like Azure: empty-choices filter chunk first, usage chunk only when asked', async () => {
    const withUsage = await collect(
      await azure.chat.completions.create({ model: 'chat', messages: hello, stream: true, stream_options: { include_usage: true } }),
    );
    expect(withUsage.chunks[0]?.choices).toEqual([]);
    expect(withUsage.chunks[0]?.prompt_filter_results).toHaveLength(1);
    expect(withUsage.content).toBe('You said: Hello there');
    expect(withUsage.finish).toBe('stop');
    expect(withUsage.usage).toMatchObject(helloUsage);
    expect(withUsage.chunks.at(-1)?.choices).toEqual([]);
    // first + role + 4 words + finish + usage
    expect(withUsage.chunks).toHaveLength(8);

    const without = await collect(await azure.chat.completions.create({ model: 'chat', messages: hello, stream: true }));
    expect(without.content).toBe('You said: Hello there');
    expect(without.usage).toBeUndefined();
    expect(without.chunks).toHaveLength(7);
  });

  it('survives a stream re-chunked 1–7 bytes at a time', async () => {
    const proxy: RechunkProxy = await startRechunkProxy(sim.url);
    try {
      const client = new AzureOpenAI({ endpoint: proxy.url, apiKey: API_KEY, apiVersion: '2024-10-21', maxRetries: 0 });
      const text = 'Grüße aus Zürich — naïve café ✓ 𝄞 emoji 🎉 and\r\nCRLF inside';
      const out = await collect(
        await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: text }], stream: true, stream_options: { include_usage: true } }),
      );
      expect(out.content).toBe(`You said: ${text}`);
      expect(out.usage?.completion_tokens).toBe(`You said: ${text}`.match(/\S+\s*/g)?.length);
    } finally {
      await proxy.close();
    }
  });

  it('calls a named tool, streams it in index semantics, then answers from the tool result', async () => {
    const ask = 'What is the weather in Paris? Use get_weather';
    const messages = [{ role: 'user' as const, content: ask }];
    const data = await azure.chat.completions.create({ model: 'chat', messages, tools: [weatherTool] });
    const call = data.choices[0]?.message.tool_calls?.[0];
    expect(data.choices[0]?.finish_reason).toBe('tool_calls');
    expect(data.choices[0]?.message.content).toBeNull();
    expect(call?.type === 'function' && call.function).toEqual({ name: 'get_weather', arguments: JSON.stringify({ city: ask, days: ask.length }) });

    const streamed = await collect(await azure.chat.completions.create({ model: 'chat', messages, tools: [weatherTool], stream: true }));
    expect(streamed.finish).toBe('tool_calls');
    expect(streamed.toolCalls).toEqual([{ id: call?.id, name: 'get_weather', arguments: JSON.stringify({ city: ask, days: ask.length }) }]);

    const followUp = await azure.chat.completions.create({
      model: 'chat',
      tools: [weatherTool],
      messages: [...messages, data.choices[0]!.message, { role: 'tool', tool_call_id: call!.id, content: 'Sunny, 21°C' }],
    });
    expect(followUp.choices[0]?.message.content).toBe('The get_weather tool returned: Sunny, 21°C');
  });

  it('streams two tool calls with indexes 0 and 1', async () => {
    const timeTool: ChatCompletionTool = { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } };
    const ask = 'call get_time and get_weather';
    const out = await collect(
      await azure.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: ask }], tools: [weatherTool, timeTool], stream: true }),
    );
    expect(out.toolCalls.map((c) => [c.name, c.arguments])).toEqual([
      ['get_weather', JSON.stringify({ city: ask, days: ask.length })],
      ['get_time', JSON.stringify({ zone: ask })],
    ]);
    expect(new Set(out.toolCalls.map((c) => c.id)).size).toBe(2);
  });

  it('does not call a tool the user did not ask for', async () => {
    const data = await azure.chat.completions.create({ model: 'chat', messages: hello, tools: [weatherTool] });
    expect(data.choices[0]?.message.content).toBe('You said: Hello there');
  });

  it('answers in the requested response_format: a json_schema instance (parse and stream), json_object as JSON', async () => {
    const { zodResponseFormat } = await import('openai/helpers/zod');
    const { z } = await import('zod');
    const City = z.object({ city: z.string(), population: z.int(), capital: z.boolean(), tags: z.array(z.string()) });
    const messages = [{ role: 'user' as const, content: 'Describe "Lyon", about 520000 people.' }];
    const parsed = await azure.chat.completions.parse({ model: 'chat', messages, response_format: zodResponseFormat(City, 'city') });
    expect(parsed.choices[0]!.message.parsed).toEqual({ city: 'Lyon', population: 520000, capital: true, tags: ['Lyon'] });
    const stream = azure.chat.completions.stream({ model: 'chat', messages, response_format: zodResponseFormat(City, 'city') });
    let deltas = 0;
    stream.on('content', () => deltas++);
    expect((await stream.finalChatCompletion()).choices[0]!.message.parsed).toEqual({ city: 'Lyon', population: 520000, capital: true, tags: ['Lyon'] });
    expect(deltas).toBeGreaterThan(1);
    const object = await azure.chat.completions.create({ model: 'chat', messages: hello, response_format: { type: 'json_object' } });
    expect(JSON.parse(object.choices[0]!.message.content!)).toEqual({ answer: 'You said: Hello there' });
    // Without a schema object the answer stays text (the gateway's tests of other fields rely on it).
    const text = await azure.chat.completions.create({ model: 'chat', messages: hello, response_format: { type: 'text' } });
    expect(text.choices[0]!.message.content).toBe('You said: Hello there');
  });

  it('answers embeddings (base64 by default in the SDK, floats on request)', async () => {
    const viaBase64 = await azure.embeddings.create({ model: 'embed', input: ['hello', 'world!!'] });
    expect(viaBase64.data).toHaveLength(2);
    expect(viaBase64.data[0]?.embedding).toEqual(embed('hello', 8));
    expect(viaBase64.usage).toEqual({ prompt_tokens: 2 + 2, total_tokens: 4 });
    expect(sim.requests.at(-1)?.body).toMatchObject({ encoding_format: 'base64' });
    const floats = await azure.embeddings.create({ model: 'embed', input: 'hello', encoding_format: 'float', dimensions: 4 });
    expect(floats.data[0]?.embedding).toEqual(embed('hello', 4));
  });

  it('serves the v1 surface (model = deployment, no api-version)', async () => {
    const v1 = new OpenAI({ baseURL: `${sim.url}/openai/v1`, apiKey: API_KEY, maxRetries: 0 });
    const data = await v1.chat.completions.create({ model: 'chat', messages: hello });
    expect(data.choices[0]?.message.content).toBe('You said: Hello there');
    expect(sim.requests.at(-1)?.path).toBe('/openai/v1/chat/completions');
    expect(sim.requests.at(-1)?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });
});

describe('Azure simulator bookkeeping', () => {
  it('paces every stream with streamDelayMs', async () => {
    const slow = await startAzureSimulator({ apiKey: API_KEY, deployments: { chat: 'gpt-4o' }, streamDelayMs: 25 });
    try {
      const client = new AzureOpenAI({ endpoint: slow.url, apiKey: API_KEY, apiVersion: '2024-10-21', maxRetries: 0 });
      const started = performance.now();
      const out = await collect(await client.chat.completions.create({ model: 'chat', messages: hello, stream: true }));
      expect(out.content).toBe('You said: Hello there');
      expect(performance.now() - started).toBeGreaterThanOrEqual(6 * 25 - 5); // 7 events, 6 pauses
    } finally {
      await slow.close();
    }
  });

  it('keeps only the last `keepRequests` requests', async () => {
    const small = await startAzureSimulator({ apiKey: API_KEY, deployments: { chat: 'gpt-4o' }, keepRequests: 2 });
    try {
      const client = new AzureOpenAI({ endpoint: small.url, apiKey: API_KEY, apiVersion: '2024-10-21', maxRetries: 0 });
      for (const content of ['one', 'two', 'three']) await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content }] });
      expect(small.requests.map((r) => (r.body as { messages: { content: string }[] }).messages[0]?.content)).toEqual(['two', 'three']);
    } finally {
      await small.close();
    }
  });
});

describe('Azure simulator errors through the SDK', () => {
  it('400 when api-version is missing', async () => {
    const noVersion = new OpenAI({ baseURL: `${sim.url}/openai/deployments/chat`, apiKey: API_KEY, maxRetries: 0 });
    const err = await noVersion.chat.completions.create({ model: 'chat', messages: hello }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('MissingApiVersion');
  });

  it('400 on stream_options without stream, as Azure answers', async () => {
    const err = await azure.chat.completions.create({ model: 'chat', messages: hello, stream_options: { include_usage: true } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).param).toBe('stream_options');
  });

  it('401 on a wrong key', async () => {
    const wrong = new AzureOpenAI({ endpoint: sim.url, apiKey: 'nope', apiVersion: '2024-10-21', maxRetries: 0 });
    const err = await wrong.chat.completions.create({ model: 'chat', messages: hello }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('401');
  });

  it('404 DeploymentNotFound', async () => {
    const err = await azure.chat.completions.create({ model: 'nope', messages: hello }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('DeploymentNotFound');
  });

  it('429 with retry-after from a queued fault, once', async () => {
    sim.faults.push({ status: 429, headers: { 'retry-after': '6', 'retry-after-ms': '6000' }, body: { error: { code: '429', message: 'slow down' } } });
    const err = await azure.chat.completions.create({ model: 'chat', messages: hello }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const apiErr = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiErr.headers?.get('retry-after')).toBe('6');
    expect(apiErr.headers?.get('retry-after-ms')).toBe('6000');
    expect(apiErr.message).toBe('429 slow down');
    // consumed: the next request succeeds
    await expect(azure.chat.completions.create({ model: 'chat', messages: hello })).resolves.toBeDefined();
  });

  it('400 content_filter with innererror', async () => {
    const err = await azure.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: `tell me about ${CONTENT_FILTER_TRIGGER}` }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const apiErr = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiErr.code).toBe('content_filter');
    expect((apiErr.error as { innererror?: { code?: string } }).innererror?.code).toBe('ResponsibleAIPolicyViolation');
  });

  it('a connection reset mid-stream fails the SDK stream after partial chunks', async () => {
    sim.faults.push({ cutAfterChunks: 3, resetConnection: true });
    const stream = await azure.chat.completions.create({ model: 'chat', messages: hello, stream: true });
    const seen: ChatCompletionChunk[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) seen.push(chunk);
      })(),
    ).rejects.toThrow();
    expect(seen).toHaveLength(3);
    await expect.poll(() => sim.requests.at(-1)?.outcome).toBe('closed-early');
  });
});
