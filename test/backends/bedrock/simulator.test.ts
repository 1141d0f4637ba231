// The Bedrock backend end to end: the real SDK, SigV4, HTTP/1.1 keep-alive and event-stream
// framing against the simulator.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { bedrockBackend } from '../../../src/backends/bedrock/index.js';
import type { Backend, CallContext, ChatCall, ChatMessage, JsonResult, StreamResult } from '../../../src/backends/types.js';
import { GatewayError } from '../../../src/errors.js';
import { startBedrockSimulator, type BedrockSimulator } from '../../../src/simulators/bedrock/index.js';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'AKIDSIMULATOR', secretAccessKey: 'simulator-secret' };
const MODEL_ID = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const logger = pino({ level: 'silent' });

let sim: BedrockSimulator;
let backend: Backend;

const makeBackend = (overrides: Record<string, unknown> = {}) =>
  bedrockBackend.create({
    name: 'bedrock-sim',
    logger,
    connectMs: 5_000,
    config: bedrockBackend.configSchema.parse({
      type: 'bedrock',
      region: REGION,
      endpoint: sim.url,
      credentials: CREDENTIALS,
      models: { haiku: MODEL_ID, ghost: 'anthropic.claude-ghost-v1:0' },
      ...overrides,
    }),
  });

beforeAll(async () => {
  // Claude's minimum cacheable prefix: a cachePoint after less than this is ignored, as on Bedrock.
  sim = await startBedrockSimulator({ region: REGION, credentials: CREDENTIALS, models: [MODEL_ID], cacheMinTokens: 1024 });
  backend = makeBackend();
});
afterAll(async () => {
  await backend?.close?.();
  await sim?.close();
});
beforeEach(() => {
  sim.faults.clear();
  sim.resetCache();
  sim.requests.length = 0;
});

const ctx = (signal: AbortSignal = new AbortController().signal): CallContext => ({ requestId: 'req', tenant: 'tenant', signal, logger });
const chatCall = (messages: ChatMessage[], extra: Omit<Partial<ChatCall>, 'body'> & { body?: Record<string, unknown> } = {}): ChatCall => {
  const { body, ...rest } = extra;
  return { body: { model: 'haiku', messages, ...body }, model: 'haiku', stream: false, clientWantsStreamUsage: false, ...rest };
};

async function drain(result: StreamResult, sink: Array<Record<string, unknown>> = []) {
  for await (const chunk of result.chunks!) sink.push(chunk.value as Record<string, unknown>);
  return sink;
}
type Choice = { delta: { content?: string; tool_calls?: Array<{ index: number; id?: string; function: { name?: string; arguments: string } }> }; finish_reason: string | null };
const choicesOf = (chunks: Array<Record<string, unknown>>) => chunks.flatMap((c) => c.choices as Choice[]);
const textOf = (chunks: Array<Record<string, unknown>>) => choicesOf(chunks).map((c) => c.delta.content ?? '').join('');

const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

describe('bedrock backend × simulator', () => {
  it('non-stream: a chat.completion from the model that answered, with usage, over signed HTTP/1.1', async () => {
    const result = (await backend.chat(chatCall([{ role: 'user', content: 'Hello there' }]), ctx())) as JsonResult;
    expect(result.type).toBe('json');
    expect(result.model).toBe(MODEL_ID);
    const body = result.body as { model: string; choices: Array<{ message: { content: string }; finish_reason: string }>; usage: { prompt_tokens: number; completion_tokens: number } };
    expect(body.model).toBe(MODEL_ID);
    expect(body.choices[0]?.message.content).toContain('Simulated answer from');
    expect(body.choices[0]?.message.content).toContain('Hello there');
    expect(body.choices[0]?.finish_reason).toBe('stop');
    expect(result.usage?.input).toBeGreaterThan(0);
    expect(result.usage?.output).toBeGreaterThan(0);
    expect(body.usage.prompt_tokens).toBe(result.usage!.input);
    expect(sim.requests[0]).toMatchObject({ operation: 'converse', modelId: MODEL_ID, httpVersion: '1.1', status: 200 });
  });

  it('stream: role chunk, text deltas, finish, usage chunk; same text as non-stream', async () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'Stream this please' }];
    const json = (await backend.chat(chatCall(messages), ctx())) as JsonResult;
    const result = (await backend.chat(chatCall(messages, { stream: true, clientWantsStreamUsage: true }), ctx())) as StreamResult;
    expect(result.type).toBe('stream');
    const chunks = await drain(result);
    expect((chunks[0]?.choices as Choice[])[0]?.delta).toEqual({ role: 'assistant' });
    const text = textOf(chunks);
    expect(text).toBe((json.body as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content);
    expect(choicesOf(chunks).filter((c) => c.finish_reason !== null).map((c) => c.finish_reason)).toEqual(['stop']);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: result.usage()!.output });
    expect(result.usage()).toEqual(json.usage);
    expect(sim.requests.at(-1)).toMatchObject({ operation: 'converse-stream', status: 200 });
  });

  describe('structured output (response_format)', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'], additionalProperties: false };
    const format = { type: 'json_schema', json_schema: { name: 'forecast', description: 'A forecast request', schema, strict: true } };
    const messages: ChatMessage[] = [{ role: 'user', content: 'Forecast for "Oslo", 3 days' }];

    it('json_schema: Bedrock gets outputConfig; the JSON answer is message.content with refusal null and finish stop, stream and non-stream alike', async () => {
      const json = (await backend.chat(chatCall(messages, { body: { response_format: format } }), ctx())) as JsonResult;
      const sent = sim.requests.at(-1)!.body as { outputConfig: unknown };
      expect(sent.outputConfig).toEqual({ textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'forecast', description: 'A forecast request' } } } });
      const choice = (json.body as { choices: Array<{ message: { content: string; refusal: null; tool_calls?: unknown }; finish_reason: string }> }).choices[0]!;
      expect(JSON.parse(choice.message.content)).toEqual({ city: 'Oslo', days: 3 });
      expect(choice.message.refusal).toBeNull();
      expect(choice.message.tool_calls).toBeUndefined();
      expect(choice.finish_reason).toBe('stop');
      expect(json.usage).toEqual({ input: sim.requests.at(-1)!.billed!.inputTokens, output: sim.requests.at(-1)!.billed!.outputTokens, cacheRead: 0, cacheWrite: 0, reasoning: 0 });

      const stream = (await backend.chat(chatCall(messages, { body: { response_format: format }, stream: true, clientWantsStreamUsage: true }), ctx())) as StreamResult;
      const chunks = await drain(stream);
      expect(choicesOf(chunks).filter((c) => c.delta.content !== undefined).length).toBeGreaterThan(1);
      expect(textOf(chunks)).toBe(choice.message.content);
      expect(choicesOf(chunks).filter((c) => c.finish_reason !== null).map((c) => c.finish_reason)).toEqual(['stop']);
      expect(stream.usage()).toEqual(json.usage);
    });

    it('max_tokens cuts the document: finish_reason length (what parse() helpers report as a length error)', async () => {
      const json = (await backend.chat(chatCall(messages, { body: { response_format: format, max_tokens: 3 } }), ctx())) as JsonResult;
      const choice = (json.body as { choices: Array<{ message: { content: string }; finish_reason: string }> }).choices[0]!;
      expect(choice.finish_reason).toBe('length');
      expect(() => JSON.parse(choice.message.content)).toThrow();
    });

    it('a schema Bedrock refuses is its 400, relayed with its message', async () => {
      const open = { type: 'object', properties: { city: { type: 'string' } } };
      const err = await backend.chat(chatCall(messages, { body: { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: open } } } }), ctx()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({ status: 400, type: 'invalid_request_error' });
      expect((err as Error).message).toContain("must set 'additionalProperties' to false");
    });

    it('json_object: the instruction reaches Bedrock as the last system block, no outputConfig', async () => {
      await backend.chat(chatCall([{ role: 'system', content: 'Be brief.' }, ...messages], { body: { response_format: { type: 'json_object' } } }), ctx());
      const sent = sim.requests.at(-1)!.body as { system: Array<{ text?: string }>; outputConfig?: unknown };
      expect(sent.outputConfig).toBeUndefined();
      expect(sent.system.at(0)).toEqual({ text: 'Be brief.' });
      expect(sent.system.at(-1)?.text).toMatch(/^Respond with a single valid JSON object/);
    });
  });

  it('stream without include_usage: no usage chunk, usage still recorded', async () => {
    const result = (await backend.chat(chatCall([{ role: 'user', content: 'hi' }], { stream: true }), ctx())) as StreamResult;
    const chunks = await drain(result);
    expect(chunks.every((c) => (c.choices as unknown[]).length > 0)).toBe(true);
    expect(result.usage()?.output).toBeGreaterThan(0);
  });

  it('tools round-trip: tool call, tool result, answer quoting the result (non-stream and stream)', async () => {
    const user: ChatMessage = { role: 'user', content: 'What is the weather in "Paris"? Use the get_weather tool.' };
    const first = (await backend.chat(chatCall([user], { body: { tools: [WEATHER_TOOL] } }), ctx())) as JsonResult;
    const choice = (first.body as { choices: Array<{ message: { tool_calls: Array<{ id: string; type: string; function: { name: string; arguments: string } }> }; finish_reason: string }> }).choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls[0]!;
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    expect(call.id).toMatch(/^tooluse_/);

    // The same call streamed: one tool call, index 0, arguments reassemble to the same JSON.
    const streamed = await drain((await backend.chat(chatCall([user], { stream: true, body: { tools: [WEATHER_TOOL] } }), ctx())) as StreamResult);
    const calls = choicesOf(streamed).flatMap((c) => c.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, id: call.id, function: { name: 'get_weather', arguments: '' } });
    expect(calls.every((c) => c.index === 0)).toBe(true);
    expect(JSON.parse(calls.map((c) => c.function.arguments).join(''))).toEqual({ city: 'Paris' });
    expect(choicesOf(streamed).at(-1)?.finish_reason).toBe('tool_calls');

    const history: ChatMessage[] = [
      user,
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: '18 degrees and sunny' },
    ];
    const second = (await backend.chat(chatCall(history, { body: { tools: [WEATHER_TOOL] } }), ctx())) as JsonResult;
    const answer = (second.body as { choices: Array<{ message: { content: string }; finish_reason: string }> }).choices[0]!;
    expect(answer.finish_reason).toBe('stop');
    expect(answer.message.content).toContain('The get_weather tool returned: 18 degrees and sunny');
  });

  it('on the wire: system, image bytes, tool config, inference config and cache points as Bedrock expects', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').toString('base64');
    const messages: ChatMessage[] = [
      { role: 'developer', content: 'Answer briefly.' },
      { role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] },
      { role: 'assistant', content: 'A tiny PNG header.' },
      { role: 'user', content: 'And the weather in "Oslo"?' },
    ];
    const result = (await backend.chat(
      chatCall(messages, { historyLength: 3, body: { tools: [WEATHER_TOOL], tool_choice: 'required', max_tokens: 300, temperature: 0.5, stop: 'END' } }),
      ctx(),
    )) as JsonResult;
    expect((result.body as { choices: Array<{ finish_reason: string }> }).choices[0]?.finish_reason).toBe('tool_calls');
    expect(sim.requests[0]?.path).toBe(`/model/${encodeURIComponent(MODEL_ID)}/converse`);
    expect(sim.requests[0]?.body).toEqual({
      system: [{ text: 'Answer briefly.' }, { cachePoint: { type: 'default' } }],
      messages: [
        { role: 'user', content: [{ text: 'What is in this picture?' }, { image: { format: 'png', source: { bytes: png } } }] },
        { role: 'assistant', content: [{ text: 'A tiny PNG header.' }, { cachePoint: { type: 'default' } }] },
        { role: 'user', content: [{ text: 'And the weather in "Oslo"?' }, { cachePoint: { type: 'default' } }] },
      ],
      inferenceConfig: { maxTokens: 300, temperature: 0.5, stopSequences: ['END'] },
      toolConfig: { tools: [{ toolSpec: { name: 'get_weather', description: 'Weather by city', inputSchema: { json: WEATHER_TOOL.function.parameters } } }], toolChoice: { any: {} } },
    });
  });

  it('an assistant prefill is continued, its trailing whitespace trimmed', async () => {
    const result = (await backend.chat(chatCall([{ role: 'user', content: 'Say hi' }, { role: 'assistant', content: 'Hi there, ' }]), ctx())) as JsonResult;
    expect(result.status).toBe(200);
    expect(sim.requests[0]?.body).toMatchObject({ messages: [{ role: 'user' }, { role: 'assistant', content: [{ text: 'Hi there,' }] }] });
  });

  it('prompt cache: reads grow across three turns as historyLength grows', async () => {
    const system: ChatMessage = { role: 'system', content: `You are a careful assistant. ${'Follow the house rules. '.repeat(300)}` };
    const messages: ChatMessage[] = [system, { role: 'user', content: `First question about ${'topic '.repeat(50)}` }];
    const reads: number[] = [];
    const writes: number[] = [];
    let historyLength = 0;
    for (let turn = 0; turn < 3; turn++) {
      const result = (await backend.chat(chatCall(messages, { historyLength }), ctx())) as JsonResult;
      reads.push(result.usage!.cacheRead);
      writes.push(result.usage!.cacheWrite);
      const body = result.body as { choices: Array<{ message: { content: string } }>; usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } } };
      expect(body.usage.prompt_tokens_details.cached_tokens).toBe(result.usage!.cacheRead);
      expect(body.usage.prompt_tokens).toBe(result.usage!.input + result.usage!.cacheRead + result.usage!.cacheWrite);
      historyLength = messages.length;
      messages.push({ role: 'assistant', content: body.choices[0]!.message.content }, { role: 'user', content: `Follow-up ${turn} ${'more words '.repeat(40)}` });
      historyLength += 1; // the assistant answer is stored history too
    }
    expect(reads[0]).toBe(0);
    expect(writes[0]).toBeGreaterThan(0);
    expect(reads[1]).toBeGreaterThan(0);
    expect(reads[2]).toBeGreaterThan(reads[1]!);
    const sent = sim.requests.map((r) => JSON.stringify(r.body));
    expect(sent.every((b) => b.includes('cachePoint'))).toBe(true);
  });

  it('throttling → GatewayError 429 rate_limit_error (non-stream and stream)', async () => {
    sim.faults.push({ type: 'throttling', times: 2 });
    for (const stream of [false, true]) {
      const err = await backend.chat(chatCall([{ role: 'user', content: 'hi' }], { stream }), ctx()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({ status: 429, type: 'rate_limit_error' });
    }
  });

  const faultTable = [
    ['accessDenied', 403, 'permission_error'],
    ['modelTimeout', 408, 'timeout_error'],
    ['modelError', 502, 'server_error'],
    ['modelNotReady', 429, 'rate_limit_error'],
    ['internal', 500, 'server_error'],
    ['serviceUnavailable', 503, 'service_unavailable_error'],
  ] as const;
  for (const [fault, status, type] of faultTable) {
    it(`${fault} from Bedrock → ${status} ${type}`, async () => {
      sim.faults.push({ type: fault });
      const err = await backend.chat(chatCall([{ role: 'user', content: 'hi' }]), ctx()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({ status, type });
    });
  }

  it('validation: context window → 400 context_length_exceeded', async () => {
    sim.faults.push({ type: 'validation' });
    const err = await backend.chat(chatCall([{ role: 'user', content: 'hi' }]), ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' });
  });

  it('mid-stream exception → the chunks that arrived, then a GatewayError', async () => {
    sim.faults.push({ type: 'midStreamException', afterEvents: 3, exception: 'throttlingException' });
    const result = (await backend.chat(chatCall([{ role: 'user', content: 'a long enough question to stream' }], { stream: true }), ctx())) as StreamResult;
    const seen: Array<Record<string, unknown>> = [];
    const err = await drain(result, seen).then(() => undefined, (e: unknown) => e);
    expect(seen.length).toBeGreaterThan(0);
    expect(choicesOf(seen).some((c) => c.finish_reason !== null)).toBe(false);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 429 });
  });

  it('a cut connection mid-stream → GatewayError, never a complete-looking answer', async () => {
    sim.faults.push({ type: 'cut', afterEvents: 2 });
    const result = (await backend.chat(chatCall([{ role: 'user', content: 'cut me off' }], { stream: true }), ctx())) as StreamResult;
    const seen: Array<Record<string, unknown>> = [];
    const err = await drain(result, seen).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 502, code: 'upstream_stream_interrupted' });
    expect(choicesOf(seen).some((c) => c.finish_reason !== null)).toBe(false);
  });

  it('abort before the answer: the abort error itself, not a GatewayError', async () => {
    sim.faults.push({ type: 'delayMs', ms: 2_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const err = await backend.chat(chatCall([{ role: 'user', content: 'hi' }]), ctx(controller.signal)).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(err).not.toBeInstanceOf(GatewayError);
    expect((err as Error).name).toBe('AbortError');
  });

  it('unknown Bedrock model → 404 with a generic message', async () => {
    const err = await backend.chat({ ...chatCall([{ role: 'user', content: 'hi' }]), model: 'ghost' }, ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, type: 'not_found_error' });
  });

  it('wrong gateway credentials → 502 upstream_auth_error (the client did nothing wrong)', async () => {
    const wrong = makeBackend({ credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret' } });
    try {
      const err = await wrong.chat(chatCall([{ role: 'user', content: 'hi' }]), ctx()).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 502, code: 'upstream_auth_error' });
      expect((err as Error).message).not.toContain('signature');
    } finally {
      await wrong.close?.();
    }
  });

  it('abort mid-stream: the abort error itself, after the chunks that arrived', async () => {
    const controller = new AbortController();
    const result = (await backend.chat(chatCall([{ role: 'user', content: 'abort me while streaming' }], { stream: true }), ctx(controller.signal))) as StreamResult;
    const seen: Array<Record<string, unknown>> = [];
    const err = await (async () => {
      for await (const chunk of result.chunks!) {
        seen.push(chunk.value as Record<string, unknown>);
        controller.abort();
      }
    })().then(() => undefined, (e: unknown) => e);
    expect(seen).toHaveLength(1);
    expect(err).not.toBeInstanceOf(GatewayError);
    expect((err as Error).name).toBe('AbortError');
  });

  it('model stream error mid-stream → 502 with a generic message', async () => {
    sim.faults.push({ type: 'midStreamException', afterEvents: 2, exception: 'modelStreamErrorException' });
    const result = (await backend.chat(chatCall([{ role: 'user', content: 'hi' }], { stream: true }), ctx())) as StreamResult;
    const err = await drain(result).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: 'model_error', message: 'The model failed while streaming the response.' });
  });

  it('asks for keep-alive HTTP/1.1 connections (not an HTTP/2 session per request)', async () => {
    for (let i = 0; i < 3; i++) await backend.chat(chatCall([{ role: 'user', content: `n${i}` }]), ctx());
    expect(sim.requests.map((r) => [r.httpVersion, r.headers['connection']])).toEqual(Array(3).fill(['1.1', 'keep-alive']));
  });

  it('sequential calls, streamed or not, reuse one TCP connection', async () => {
    const relay = await countingRelay(sim.url);
    const relayed = makeBackend({ endpoint: relay.url });
    try {
      for (let i = 0; i < 4; i++) {
        const result = await relayed.chat(chatCall([{ role: 'user', content: `turn ${i}` }], { stream: i % 2 === 1 }), ctx());
        if (result.type === 'stream') await drain(result);
      }
      expect(relay.sockets).toHaveLength(1);
    } finally {
      await relayed.close?.();
      await relay.close();
    }
  });

  it('a stream the consumer leaves early gives its connection up (no socket held until the idle timeout)', async () => {
    const slow = await startBedrockSimulator({ region: REGION, credentials: CREDENTIALS, streamEventDelayMs: 50 });
    const relay = await countingRelay(slow.url);
    const relayed = makeBackend({ endpoint: relay.url });
    try {
      const result = (await relayed.chat(chatCall([{ role: 'user', content: 'a long question '.repeat(20) }], { stream: true }), ctx())) as StreamResult;
      for await (const chunk of result.chunks!) {
        expect(chunk.value).toBeDefined();
        break;
      }
      await vi.waitFor(() => expect(relay.sockets[0]?.destroyed).toBe(true), { timeout: 2_000 });
    } finally {
      await relayed.close?.();
      await relay.close();
      await slow.close();
    }
  });
});

/** A TCP relay in front of `target` that keeps the client-side sockets it accepted. */
async function countingRelay(target: string): Promise<{ url: string; sockets: Socket[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    const out = connect(Number(upstream.port), upstream.hostname);
    socket.pipe(out).pipe(socket);
    const close = () => (socket.destroy(), out.destroy());
    socket.on('error', close).on('close', close);
    out.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
