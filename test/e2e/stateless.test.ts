// The official openai client → the gateway → the Azure OpenAI simulator, as a user runs it.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let client: OpenAI;
beforeAll(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
afterAll(() => stack.close());

const ask = (content: string) => [{ role: 'user' as const, content }];

describe('stateless path through the openai client', () => {
  it('chat completion with usage and Azure content-filter fields passed through', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-4o', messages: ask('Hello there') });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('gpt-4o-2024-08-06');
    expect(res.choices[0]!.message.content).toBeTruthy();
    expect(res.usage!.prompt_tokens).toBeGreaterThan(0);
    expect((res as any).prompt_filter_results).toBeDefined();
    expect((res.choices[0] as any).content_filter_results).toBeDefined();
    const req = stack.azure.requests.at(-1)!;
    expect(req.path).toBe('/openai/deployments/gpt-4o-prod/chat/completions');
    expect(req.query['api-version']).toBe('2024-10-21');
    expect(req.headers.authorization).toBeUndefined();
  });

  it("passes the upstream's JSON answer on byte for byte (not re-serialised)", async () => {
    const answer = {
      id: 'chatcmpl-bytes', object: 'chat.completion', created: 1, model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'caf\u00e9 \u2713' } }],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    };
    // Indented and with escapes: any re-serialisation would change these bytes.
    const text = JSON.stringify(answer, null, 2).replace('café ✓', 'caf\\u00e9 \\u2713');
    stack.azure.faults.push({ status: 200, body: text, headers: { 'content-type': 'application/json' } });
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: ask('bytes') }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.text()).toBe(text);
  });

  it('streams, and returns the usage chunk only when the client asks for it', async () => {
    const collect = async (includeUsage: boolean) => {
      const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: ask('Tell me a story'), stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) });
      let text = '';
      const usages: unknown[] = [];
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usages.push(chunk.usage);
      }
      return { text, usages };
    };
    const without = await collect(false);
    const withUsage = await collect(true);
    expect(without.text.length).toBeGreaterThan(0);
    expect(withUsage.text).toBe(without.text);
    expect(without.usages).toHaveLength(0);
    expect(withUsage.usages).toHaveLength(1);
    // The gateway always asked the upstream for usage.
    expect((stack.azure.requests.at(-2)!.body as any).stream_options).toEqual({ include_usage: true });
  });

  it('n = 2: both choices, as JSON and as a stream whose chunks interleave them; usage bills both', async () => {
    const one = await client.chat.completions.create({ model: 'gpt-4o', messages: ask('Two of them') });
    const two = await client.chat.completions.create({ model: 'gpt-4o', messages: ask('Two of them'), n: 2 });
    expect(two.choices.map((c) => [c.index, c.message.content])).toEqual([[0, 'You said: Two of them'], [1, 'You said: Two of them']]);
    expect(two.usage!.completion_tokens).toBe(2 * one.usage!.completion_tokens);
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: ask('Two of them'), n: 2, stream: true, stream_options: { include_usage: true } });
    const text = ['', ''];
    const finished: (string | null)[] = [null, null];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        text[c.index] += c.delta.content ?? '';
        finished[c.index] ??= c.finish_reason;
      }
      usage = chunk.usage ?? usage;
    }
    expect(text).toEqual(['You said: Two of them', 'You said: Two of them']);
    expect(finished).toEqual(['stop', 'stop']);
    expect(usage!.completion_tokens).toBe(2 * one.usage!.completion_tokens);
  });

  it('tool call round trip', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = ask('Use the get_weather tool for Paris');
    const first = await client.chat.completions.create({ model: 'gpt-4o', messages, tools });
    const call = first.choices[0]!.message.tool_calls?.[0];
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call!.id, content: '{"temp_c": 21}' });
    const second = await client.chat.completions.create({ model: 'gpt-4o', messages, tools });
    expect(second.choices[0]!.message.content).toContain('21');
  });

  it('embeddings and models', async () => {
    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(emb.data).toHaveLength(2);
    expect(emb.data[0]!.embedding.length).toBeGreaterThan(0);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining(['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']));
  });

  it('maps upstream errors to the SDK error classes with retry headers preserved', async () => {
    // A retry-after beyond the gateway's cap is not waited for: the client gets it to honour itself.
    stack.azure.faults.push({ times: 5, status: 429, headers: { 'retry-after': '30', 'retry-after-ms': '30000' }, body: { error: { code: '429', message: 'Requests to the ChatCompletions_Create Operation have exceeded the rate limit.' } } });
    const err = await client.chat.completions.create({ model: 'gpt-4o', messages: ask('x') }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.headers.get('retry-after')).toBe('30');
    expect(err.headers.get('retry-after-ms')).toBe('30000');
    stack.azure.faults.clear();

    const unknown = await client.chat.completions.create({ model: 'no-such-model', messages: ask('x') }).catch((e) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.code).toBe('model_not_found');

    const ghost = await client.chat.completions.create({ model: 'ghost', messages: ask('x') }).catch((e) => e);
    expect(ghost).toBeInstanceOf(OpenAI.NotFoundError);
    expect(ghost.code).toBe('DeploymentNotFound');

    stack.azure.faults.push({ times: 3, status: 500, body: { error: { code: 'InternalServerError', message: 'boom' } } });
    expect(await client.chat.completions.create({ model: 'gpt-4o', messages: ask('x') }).catch((e) => e)).toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('a stream cut by the upstream ends in an error the SDK raises, not a clean end', async () => {
    // Slow enough that content reaches the client before the cut (earlier failures are retried invisibly).
    stack.azure.faults.push({ cutAfterChunks: 5, delayBetweenChunksMs: 50 });
    // gpt-4o-mini: the error test above has (rightly) tripped gpt-4o's circuit breaker.
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('Tell me a long story please'), stream: true });
    await expect(
      (async () => {
        for await (const _ of stream);
      })(),
    ).rejects.toThrow();
    // The gateway is healthy afterwards.
    const ok = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('still there?') });
    expect(ok.choices[0]!.message.content).toBeTruthy();
  });
});

describe('response headers', () => {
  it('a streamed answer carries the request id and the routing decision too', async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': 'stream-hdr-1' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-request-id')).toBe('stream-hdr-1');
    expect(res.headers.get('x-stateroute-route')).toBeTruthy();
    expect(res.headers.get('x-stateroute-rule')).toBeTruthy();
    await res.text();
  });
});
