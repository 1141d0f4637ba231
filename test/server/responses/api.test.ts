// The Responses API through the gateway over real HTTP, driven by the official openai client.
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import type { Listening } from '../../../src/server/serve.js';
import { startResponsesGateway } from './helpers.js';

let server: Listening | undefined;
afterEach(async () => {
  await server?.drain(0);
  server = undefined;
});

/** A Responses stream's events, and the error that ended it, if any: openai-node 7 throws an `error`
 * event as an APIError (carrying the event), openai-node 6 yields it like any other event. */
async function drain(stream: AsyncIterable<any>): Promise<{ events: any[]; thrown?: InstanceType<typeof OpenAI.APIError> }> {
  const events: any[] = [];
  try {
    for await (const e of stream) events.push(e);
    return { events };
  } catch (err) {
    if (!(err instanceof OpenAI.APIError)) throw err;
    return { events, thrown: err };
  }
}

async function start(options: { ttlSeconds?: number } = {}) {
  const g = await startResponsesGateway(options);
  server = g.server;
  return g;
}

describe('Responses API with the openai client', () => {
  it('creates a response from a string input; output_text works; metered once', async () => {
    const { client, stateless, meter, documents } = await start({ ttlSeconds: 3600 });
    const response = await client.responses.create({ model: 'gpt-4o', input: 'Say hello.', instructions: 'Be brief.', metadata: { ticket: 'T-1' }, temperature: 0.5 });
    expect(response.output_text).toBe('Hello from fake.');
    expect(response.id).toMatch(/^resp_[0-9a-f]{32,}$/);
    expect(response).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4o-fake', instructions: 'Be brief.', previous_response_id: null, store: true, error: null, incomplete_details: null, text: { format: { type: 'text' } }, metadata: { ticket: 'T-1' }, temperature: 0.5, top_p: 1, tools: [], tool_choice: 'auto', parallel_tool_calls: true });
    expect(response.completed_at).toBeGreaterThanOrEqual(response.created_at);
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', id: expect.stringMatching(/^msg_/), content: [{ type: 'output_text', text: 'Hello from fake.', annotations: [] }] });
    expect(response.usage).toEqual({ input_tokens: 10, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 13 });
    expect(stateless.calls[0]!.body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello.' },
    ]);
    expect(meter.records).toHaveLength(1);
    expect(meter.records[0]).toMatchObject({ operation: 'responses', tenant: 'acme', status: 200, modelRequested: 'gpt-4o', usage: { input: 10, output: 3 } });
    expect([...documents.docs.values()].map((d) => d.ttlSeconds)).toEqual([3600]);
  });

  it('chains 5 responses: the backend receives the full conversation, instructions are not carried over', async () => {
    const { client, stateless } = await start();
    let previous: string | undefined;
    const expected: unknown[] = [];
    for (let turn = 1; turn <= 5; turn++) {
      stateless.script = { reply: `answer ${turn}` };
      const response = await client.responses.create({
        model: 'gpt-4o',
        input: `question ${turn}`,
        instructions: `rules of turn ${turn}`,
        ...(previous ? { previous_response_id: previous } : {}),
      });
      expect(response.output_text).toBe(`answer ${turn}`);
      expect(response.previous_response_id).toBe(previous ?? null);
      expect(stateless.calls[turn - 1]!.body.messages).toEqual([{ role: 'system', content: `rules of turn ${turn}` }, ...expected, { role: 'user', content: `question ${turn}` }]);
      expected.push({ role: 'user', content: `question ${turn}` }, { role: 'assistant', content: `answer ${turn}` });
      previous = response.id;
    }
    // A branch from turn 5 without instructions sends no system message at all.
    await client.responses.create({ model: 'gpt-4o', input: 'one more', previous_response_id: previous });
    expect(stateless.calls[5]!.body.messages).toEqual([...expected, { role: 'user', content: 'one more' }]);
  });

  it('retrieves, lists input items, deletes; then retrieve is a NotFoundError', async () => {
    const { client } = await start();
    const created = await client.responses.create({
      model: 'gpt-4o',
      input: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'second' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'third' }] },
      ],
    });
    const got = await client.responses.retrieve(created.id);
    expect(got.id).toBe(created.id);
    expect(got.output_text).toBe('Hello from fake.');
    expect(got.output).toEqual(created.output);

    const desc = await client.responses.inputItems.list(created.id);
    const texts = (page: typeof desc.data) => page.map((i) => ((i as any).content[0] as any).text);
    expect(texts(desc.data)).toEqual(['third', 'second', 'first']);
    expect(desc.data.every((i) => typeof i.id === 'string' && i.id.startsWith('msg_'))).toBe(true);
    const asc = await client.responses.inputItems.list(created.id, { order: 'asc', limit: 2 });
    expect(texts(asc.data)).toEqual(['first', 'second']);
    expect(asc.has_more).toBe(true);
    const all: string[] = [];
    for await (const item of client.responses.inputItems.list(created.id, { order: 'asc', limit: 1 })) all.push((item as any).content[0].text);
    expect(all).toEqual(['first', 'second', 'third']);

    await client.responses.delete(created.id);
    await expect(client.responses.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.responses.delete(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.responses.inputItems.list(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('store: false is neither retrievable nor chainable', async () => {
    const { client, documents, stateless } = await start();
    const response = await client.responses.create({ model: 'gpt-4o', input: 'secret', store: false });
    expect((response as unknown as { store: boolean }).store).toBe(false); // in OpenAI's responses, not in the SDK's type
    expect(response.output_text).toBe('Hello from fake.');
    expect(documents.docs.size).toBe(0);
    await expect(client.responses.retrieve(response.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const chained = client.responses.create({ model: 'gpt-4o', input: 'again', previous_response_id: response.id });
    await expect(chained).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(chained).rejects.toMatchObject({ status: 400, code: 'previous_response_not_found', param: 'previous_response_id', message: expect.stringContaining(`Previous response with id '${response.id}' not found.`) });
    expect(stateless.calls).toHaveLength(1);
  });

  it("isolates tenants: another key gets 404 on retrieve, delete and input_items, and cannot chain", async () => {
    const { client, other, stateless } = await start();
    const mine = await client.responses.create({ model: 'gpt-4o', input: 'mine' });
    await expect(other.responses.retrieve(mine.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.responses.delete(mine.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.responses.inputItems.list(mine.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.responses.create({ model: 'gpt-4o', input: 'steal', previous_response_id: mine.id })).rejects.toMatchObject({ status: 400, code: 'previous_response_not_found' });
    expect(stateless.calls).toHaveLength(1);
    // Still there for its owner.
    expect((await client.responses.retrieve(mine.id)).id).toBe(mine.id);
  });

  it('streams with create({stream: true}): events in order with sequence numbers', async () => {
    const { client, stateless, meter } = await start();
    stateless.script = { reply: 'one two three' };
    const stream = await client.responses.create({ model: 'gpt-4o', input: 'count', stream: true });
    const events: any[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta)).toEqual(['one ', 'two ', 'three']);
    const completed = events.at(-1).response;
    expect(completed).toMatchObject({ status: 'completed', usage: { input_tokens: 10, output_tokens: 3, total_tokens: 13 } });
    expect(completed.output[0].content[0].text).toBe('one two three');
    expect(events[0].response.id).toBe(completed.id);
    expect(meter.records).toHaveLength(1);
    expect(meter.records[0]).toMatchObject({ operation: 'responses', status: 200, stream: true, usage: { input: 10, output: 3 } });
    // Stored and chainable like a JSON response.
    const next = await client.responses.create({ model: 'gpt-4o', input: 'more', previous_response_id: completed.id });
    expect(stateless.calls[1]!.body.messages).toEqual([
      { role: 'user', content: 'count' },
      { role: 'assistant', content: 'one two three' },
      { role: 'user', content: 'more' },
    ]);
    expect(next.previous_response_id).toBe(completed.id);
  });

  it('streams with responses.stream(): text deltas and finalResponse()', async () => {
    const { client, stateless } = await start();
    stateless.script = { reply: 'streamed reply here' };
    const stream = client.responses.stream({ model: 'gpt-4o', input: 'go', instructions: 'x' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('streamed reply here');
    expect(final.output_text).toBe('streamed reply here');
    expect(final.status).toBe('completed');
    expect((await client.responses.retrieve(final.id)).output_text).toBe('streamed reply here');
  });

  it('round-trips a tool call: function_call output, then function_call_output input', async () => {
    const { client, stateless } = await start();
    const tools = [{ type: 'function' as const, name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false }];
    stateless.script = { toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] };
    const first = await client.responses.create({ model: 'gpt-4o', input: 'Weather in Paris?', tools, tool_choice: 'auto' });
    expect(stateless.calls[0]!.body.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: tools[0]!.parameters, strict: false } }]);
    expect(stateless.calls[0]!.body.tool_choice).toBe('auto');
    expect(first.output).toEqual([{ id: expect.stringMatching(/^fc_/), type: 'function_call', status: 'completed', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    expect(first.output_text).toBe('');
    expect(first.tools[0]).toMatchObject({ type: 'function', name: 'get_weather' });

    stateless.script = { reply: 'It is sunny in Paris.' };
    const second = await client.responses.create({
      model: 'gpt-4o',
      previous_response_id: first.id,
      tools,
      input: [{ type: 'function_call_output', call_id: 'call_1', output: '{"sky":"sunny"}' }],
    });
    expect(second.output_text).toBe('It is sunny in Paris.');
    expect(stateless.calls[1]!.body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"sky":"sunny"}' },
    ]);
    const items = await client.responses.inputItems.list(second.id);
    // The items that produced `second`: the first turn's input and output, then its own input (newest first).
    expect(items.data).toEqual([
      { id: expect.stringMatching(/^fco_/), type: 'function_call_output', call_id: 'call_1', output: '{"sky":"sunny"}', status: 'completed' },
      first.output[0],
      { id: expect.stringMatching(/^msg_/), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'Weather in Paris?' }] },
    ]);
  });

  it('streams a tool call as function_call_arguments events', async () => {
    const { client, stateless } = await start();
    stateless.script = { toolCalls: [{ id: 'call_9', name: 'lookup', arguments: '{"q":"abc"}' }] };
    const stream = client.responses.stream({ model: 'gpt-4o', input: 'look it up', tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object' }, strict: false }] });
    const types: string[] = [];
    const argDeltas: string[] = [];
    stream.on('event', (e) => types.push(e.type));
    stream.on('response.function_call_arguments.delta', (e) => argDeltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(argDeltas.join('')).toBe('{"q":"abc"}');
    expect(types).toContain('response.function_call_arguments.done');
    expect(final.output).toMatchObject([{ id: expect.stringMatching(/^fc_/), type: 'function_call', status: 'completed', call_id: 'call_9', name: 'lookup', arguments: '{"q":"abc"}' }]);
  });

  it('a length stop is an incomplete response with incomplete_details', async () => {
    const { client, stateless } = await start();
    stateless.script = { reply: 'cut sh', finishReason: 'length' };
    const response = await client.responses.create({ model: 'gpt-4o', input: 'long story', max_output_tokens: 16 });
    expect(stateless.calls[0]!.body.max_tokens).toBe(16);
    expect(response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, max_output_tokens: 16 });
    const stream = await client.responses.create({ model: 'gpt-4o', input: 'long story', stream: true });
    const types: string[] = [];
    for await (const e of stream) types.push(e.type);
    expect(types.at(-1)).toBe('response.incomplete');
  });

  it('a failed backend call stores nothing and is metered with its status', async () => {
    const { client, stateless, documents, meter } = await start();
    stateless.script = { error: new GatewayError({ status: 429, message: 'slow down' }) };
    await expect(client.responses.create({ model: 'gpt-4o', input: 'x' })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    expect(documents.puts).toBe(0);
    expect(meter.records).toHaveLength(1);
    expect(meter.records[0]).toMatchObject({ operation: 'responses', status: 429 });
  });

  it('a stream failing midway ends with error and response.failed, and stores nothing', async () => {
    const { client, stateless, documents, meter } = await start();
    stateless.script = { reply: 'a b c d', failAfter: 2, streamError: new GatewayError({ status: 502, message: 'Upstream stream was cut.', code: 'upstream_stream_error' }) };
    const { events, thrown } = await drain(await client.responses.create({ model: 'gpt-4o', input: 'x', stream: true }));
    const error = thrown ? thrown.error : events.at(-2);
    expect(error).toMatchObject({ type: 'error', code: 'upstream_stream_error', message: 'Upstream stream was cut.', param: null });
    expect(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('')).toBe('a b ');
    if (!thrown) {
      const failed = events.at(-1);
      expect(failed).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'Upstream stream was cut.' } } });
      expect(failed.response.output[0].content[0].text).toBe('a b ');
    }
    expect(events.some((e) => e.type === 'response.completed')).toBe(false);
    expect(documents.puts).toBe(0);
    await expect(client.responses.retrieve(events[0].response.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect(meter.records).toHaveLength(1);
    expect(meter.records[0]).toMatchObject({ status: 502, errorType: 'upstream_stream_error' });
  });

  it('responses.stream(): a mid-stream failure rejects finalResponse() (never a short answer that looks complete)', async () => {
    const { client, stateless } = await start();
    stateless.script = { reply: 'a b c d', failAfter: 2, streamError: new GatewayError({ status: 502, message: 'cut', code: 'upstream_stream_error' }) };
    const stream = client.responses.stream({ model: 'gpt-4o', input: 'x' });
    stream.on('error', () => {});
    await expect(stream.finalResponse()).rejects.toMatchObject({ type: 'error', code: 'upstream_stream_error', message: 'cut' });
  });

  it('a store failure fails the request instead of answering an unchainable response', async () => {
    const { client, documents, meter } = await start();
    documents.failPuts = true;
    await expect(client.responses.create({ model: 'gpt-4o', input: 'x' })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const { events, thrown } = await drain(await client.responses.create({ model: 'gpt-4o', input: 'x', stream: true }));
    const types = events.map((e) => e.type);
    if (thrown) expect(thrown.error).toMatchObject({ type: 'error' });
    else expect(types.slice(-2)).toEqual(['error', 'response.failed']);
    expect(types).not.toContain('response.completed');
    expect(meter.records.map((r) => r.status)).toEqual([500, 500]);
  });

  it('client disconnect mid-stream aborts the backend call, stores nothing, and is metered once', async () => {
    const { url, stateless, meter, documents } = await start();
    stateless.script = { reply: 'w '.repeat(200), chunkDelayMs: 10 };
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/responses`, { method: 'POST', signal: controller.signal, headers: { authorization: `Bearer sk-tenant-a-0123456789abcdef`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', input: 'hi', stream: true }) });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    await expect.poll(() => meter.records.length, { timeout: 2000 }).toBe(1);
    expect(meter.records[0]).toMatchObject({ operation: 'responses', status: 499, errorType: 'client_closed' });
    await expect.poll(() => stateless.aborted, { timeout: 2000 }).toBe(1);
    expect(documents.puts).toBe(0);
  });
  it('client disconnect during a non-streamed call aborts the backend call and stores nothing', async () => {
    const { url, stateless, meter, documents } = await start();
    let upstreamAborted = false;
    stateless.chat = (_call, ctx) =>
      new Promise((_resolve, reject) =>
        ctx.signal.addEventListener('abort', () => {
          upstreamAborted = true;
          reject(ctx.signal.reason);
        }),
      );
    const controller = new AbortController();
    const pending = fetch(`${url}/v1/responses`, { method: 'POST', signal: controller.signal, headers: { authorization: 'Bearer sk-tenant-a-0123456789abcdef', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', input: 'hi' }) });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow();
    await expect.poll(() => meter.records.length, { timeout: 2000 }).toBe(1);
    expect(upstreamAborted).toBe(true);
    expect(meter.records[0]).toMatchObject({ operation: 'responses', status: 499, errorType: 'client_closed' });
    expect(documents.puts).toBe(0);
  });
});
