// The official openai client → the gateway → the Bedrock simulator (SigV4, event-stream framing),
// with the session's history held by the gateway.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY, OTHER, SONNET, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let client: OpenAI;
beforeAll(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
afterAll(() => stack.close());

const session = (id: string) => ({ headers: { 'x-session-id': id } });

describe('stateful path through the openai client', () => {
  it('a 10-turn session sending only new messages: history kept, cache reads from the second turn on', async () => {
    const cached: number[] = [];
    for (let turn = 1; turn <= 10; turn++) {
      const withResponse = await client.chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: `Turn ${turn}: remember ${turn * 7}` }] }, session('ten'))
        .withResponse();
      expect(withResponse.response.headers.get('x-stateroute-route')).toBe('stateful');
      const res = withResponse.data;
      expect(res.model).toBe(SONNET);
      cached.push(res.usage!.prompt_tokens_details?.cached_tokens ?? 0);
      // Bedrock received the whole conversation, alternating and starting with the user.
      const sent = stack.bedrock.requests.at(-1)!.body as { messages: { role: string }[] };
      expect(sent.messages).toHaveLength(2 * turn - 1);
    }
    expect(cached[0]).toBe(0);
    for (let i = 1; i < 10; i++) expect(cached[i]!).toBeGreaterThan(cached[i - 1]!);
    const stored = await client.get<{ messages: unknown[]; turns: number }>('/sessions/ten');
    expect(stored.messages).toHaveLength(20);
    expect(stored.turns).toBe(10);
  });

  it('streamed turns with tools across turns', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'lookup_order', description: 'Find an order', parameters: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } }];
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'Use the lookup_order tool for order 42' }], tools, stream: true, stream_options: { include_usage: true } },
      session('tools'),
    );
    let name = '';
    let args = '';
    let id = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta?.tool_calls?.[0];
      if (call?.id) id = call.id;
      if (call?.function?.name) name += call.function.name;
      if (call?.function?.arguments) args += call.function.arguments;
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(name).toBe('lookup_order');
    expect(JSON.parse(args)).toBeTypeOf('object');
    expect(finish).toBe('tool_calls');
    expect(usage!.completion_tokens).toBeGreaterThan(0);
    // The client sends only the tool result; the gateway supplies the assistant tool call from the session.
    const second = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'tool', tool_call_id: id, content: '{"status":"shipped"}' }], tools }, session('tools'));
    expect(second.choices[0]!.message.content).toContain('shipped');
  });

  it("tenant B gets 404 on tenant A's session", async () => {
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'secret' }] }, session('mine'));
    const other = new OpenAI({ apiKey: OTHER, baseURL: `${stack.url}/v1`, maxRetries: 0 });
    await expect(other.get('/sessions/mine')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('a Bedrock throttle reaches the client as a RateLimitError and leaves the session unchanged', async () => {
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'first' }] }, session('throttle'));
    stack.bedrock.faults.push({ type: 'throttling', times: 3 } as never);
    const err = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'second' }] }, session('throttle')).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const stored = await client.get<{ messages: unknown[] }>('/sessions/throttle');
    expect(stored.messages).toHaveLength(2);
  });
});

describe('Responses API on the stateful path', () => {
  it('a chain of 5 through Bedrock, retrieve, input items, delete', async () => {
    let previous: string | undefined;
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const r = await client.responses.create({ model: 'gpt-4o', input: `step ${i}`, instructions: i === 1 ? 'Be brief.' : undefined, previous_response_id: previous });
      expect(r.status).toBe('completed');
      expect(r.output_text).toContain(`step ${i}`);
      const sent = stack.bedrock.requests.at(-1)!.body as { messages: unknown[]; system?: unknown[] };
      expect(sent.messages).toHaveLength(2 * i - 1);
      // instructions are not carried over to later responses
      expect(Boolean(sent.system?.length)).toBe(i === 1);
      previous = r.id;
      ids.push(r.id);
    }
    const got = await client.responses.retrieve(ids[2]!);
    expect(got.id).toBe(ids[2]);
    const items = await client.responses.inputItems.list(ids[4]!);
    expect(items.data.length).toBeGreaterThan(0);
    await client.responses.delete(ids[4]!);
    await expect(client.responses.retrieve(ids[4]!)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('store: false goes stateless and cannot be retrieved', async () => {
    const r = await client.responses.create({ model: 'gpt-4o', input: 'ephemeral', store: false });
    expect(r.output_text).toBeTruthy();
    expect(stack.azure.requests.at(-1)!.path).toContain('/chat/completions');
    await expect(client.responses.retrieve(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('Responses calls are retried like chat completions', async () => {
    stack.azure.faults.push({ status: 429, headers: { 'retry-after-ms': '10' }, body: { error: { code: '429', message: 'rate limited' } } });
    const before = stack.azure.requests.length;
    const r = await client.responses.create({ model: 'gpt-4o', input: 'retry me', store: false });
    expect(r.output_text).toContain('retry me');
    expect(stack.azure.requests.length - before).toBe(2);
  });

  it('streams Responses events', async () => {
    const stream = client.responses.stream({ model: 'gpt-4o', input: 'stream me' });
    let text = '';
    stream.on('response.output_text.delta', (e) => (text += e.delta));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(text);
    expect(text).toContain('stream me');
  });
});
