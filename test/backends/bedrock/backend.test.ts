// The backend's wiring (model resolution, SDK call, result shapes, errors) with the SDK's `send`
// replaced; the simulator tests drive the real SDK over HTTP.
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bedrockBackend } from '../../../src/backends/bedrock/index.js';
import type { CallContext, ChatCall, StreamResult } from '../../../src/backends/types.js';
import { GatewayError } from '../../../src/errors.js';

const MODEL_ID = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const logger = pino({ level: 'silent' });
const backend = () =>
  bedrockBackend.create({
    name: 'bedrock-test',
    logger,
    connectMs: 5_000,
    config: bedrockBackend.configSchema.parse({ type: 'bedrock', region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET' }, models: { haiku: MODEL_ID } }),
  });
const ctx = (signal = new AbortController().signal): CallContext => ({ requestId: 'r1', tenant: 't1', signal, logger });
const call = (extra: Partial<ChatCall> = {}): ChatCall => ({
  body: { model: 'haiku', messages: [{ role: 'user', content: 'hi' }] },
  model: 'haiku',
  stream: false,
  clientWantsStreamUsage: false,
  ...extra,
});

afterEach(() => vi.restoreAllMocks());

describe('bedrock backend', () => {
  it('identifies itself and lists the client model names', () => {
    const b = backend();
    expect([b.name, b.kind, b.provider]).toEqual(['bedrock-test', 'stateful', 'aws.bedrock']);
    expect(b.models()).toEqual(['haiku']);
    expect(b.embeddings).toBeUndefined();
  });

  it('non-stream: sends Converse with the resolved id and the abort signal, returns chat.completion + usage', async () => {
    const send = vi.spyOn(BedrockRuntimeClient.prototype, 'send').mockImplementation(async () => ({
      $metadata: { httpStatusCode: 200, requestId: 'aws-req-1' },
      output: { message: { role: 'assistant', content: [{ text: 'hello' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 },
    }));
    const signal = new AbortController().signal;
    const result = await backend().chat(call(), ctx(signal));
    const [command, options] = send.mock.calls[0] as unknown as [ConverseCommand, { abortSignal: AbortSignal }];
    expect(command).toBeInstanceOf(ConverseCommand);
    expect(command.input).toEqual({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
    expect(options.abortSignal).toBe(signal);
    expect(result).toMatchObject({ type: 'json', status: 200, model: MODEL_ID, headers: { 'x-amzn-requestid': 'aws-req-1' }, usage: { input: 3, output: 1, cacheRead: 0, cacheWrite: 0, reasoning: 0 } });
    expect(result.type === 'json' && result.body.choices).toEqual([{ index: 0, message: { role: 'assistant', content: 'hello', refusal: null }, finish_reason: 'stop', logprobs: null }]);
  });

  it('stateful call: cache points follow historyLength', async () => {
    const send = vi.spyOn(BedrockRuntimeClient.prototype, 'send').mockImplementation(async () => ({ $metadata: {}, output: { message: { role: 'assistant', content: [{ text: 'x' }] } }, stopReason: 'end_turn' }));
    const body = { model: 'haiku', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }] };
    await backend().chat(call({ body, historyLength: 2 }), ctx());
    const input = (send.mock.calls[0]?.[0] as ConverseCommand).input;
    expect(input.messages?.[1]?.content).toEqual([{ text: 'b' }, { cachePoint: { type: 'default' } }]);
  });

  it('a model with promptCache off gets no cache points', async () => {
    const send = vi.spyOn(BedrockRuntimeClient.prototype, 'send').mockImplementation(async () => ({ $metadata: {}, output: { message: { role: 'assistant', content: [{ text: 'x' }] } }, stopReason: 'end_turn' }));
    const b = bedrockBackend.create({
      name: 'b',
      logger,
      connectMs: 5_000,
      config: bedrockBackend.configSchema.parse({ type: 'bedrock', region: 'us-east-1', models: { llama: { id: 'meta.llama3-70b-instruct-v1:0', promptCache: false } } }),
    });
    const body = { model: 'llama', messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }] };
    await b.chat(call({ body, model: 'llama', historyLength: 3 }), ctx());
    const input = (send.mock.calls[0]?.[0] as ConverseCommand).input;
    expect(input.modelId).toBe('meta.llama3-70b-instruct-v1:0');
    expect(JSON.stringify(input)).not.toContain('cachePoint');
  });

  it('unknown model → 404 model_not_found before any upstream call', async () => {
    const send = vi.spyOn(BedrockRuntimeClient.prototype, 'send');
    await expect(backend().chat(call({ model: 'gpt-4o' }), ctx())).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    expect(send).not.toHaveBeenCalled();
  });

  it('an upstream exception before the stream → GatewayError from chat()', async () => {
    vi.spyOn(BedrockRuntimeClient.prototype, 'send').mockImplementation(async () => {
      throw new ThrottlingException({ message: 'Too many requests', $metadata: { httpStatusCode: 429 } });
    });
    const err = await backend().chat(call({ stream: true }), ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 429, type: 'rate_limit_error', message: 'Too many requests' });
  });

  it('stream: ConverseStream, chunks and usage', async () => {
    const send = vi.spyOn(BedrockRuntimeClient.prototype, 'send').mockImplementation(async () => ({
      $metadata: { httpStatusCode: 200 },
      stream: (async function* () {
        yield { messageStart: { role: 'assistant' } };
        yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'hi' } } };
        yield { messageStop: { stopReason: 'max_tokens' } };
        yield { metadata: { usage: { inputTokens: 2, outputTokens: 1, totalTokens: 3 } } };
      })(),
    }));
    const result = (await backend().chat(call({ stream: true, clientWantsStreamUsage: true }), ctx())) as StreamResult;
    expect(send.mock.calls[0]?.[0]).toBeInstanceOf(ConverseStreamCommand);
    expect(result).toMatchObject({ type: 'stream', status: 200, model: MODEL_ID });
    const chunks = [];
    for await (const c of result.chunks!) chunks.push(c.value);
    const choices = chunks.map((c) => c?.choices as Array<{ finish_reason: unknown }>);
    expect(choices.map((c) => (c.length === 0 ? 'usage' : c[0]?.finish_reason))).toEqual([null, null, 'length', 'usage']);
    expect(result.usage()).toEqual({ input: 2, output: 1, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
  });

  it('stream: the upstream signal follows ctx.signal, and fires when the consumer leaves early', async () => {
    const signals: AbortSignal[] = [];
    vi.spyOn(BedrockRuntimeClient.prototype, 'send').mockImplementation(async (_command: unknown, options?: unknown) => {
      signals.push((options as { abortSignal: AbortSignal }).abortSignal);
      return {
        $metadata: {},
        stream: (async function* () {
          yield { messageStart: { role: 'assistant' } };
          yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'a' } } };
          yield { messageStop: { stopReason: 'end_turn' } };
        })(),
      };
    });
    const b = backend();
    const controller = new AbortController();
    await b.chat(call({ stream: true }), ctx(controller.signal));
    controller.abort();
    expect(signals[0]?.aborted).toBe(true);

    const left = (await b.chat(call({ stream: true }), ctx())) as StreamResult;
    for await (const chunk of left.chunks!) {
      void chunk;
      break;
    }
    expect(signals[1]?.aborted).toBe(true);

    const finished = (await b.chat(call({ stream: true }), ctx())) as StreamResult;
    for await (const chunk of finished.chunks!) void chunk;
    expect(signals[2]?.aborted).toBe(false);
  });

  it('config: promptCache defaults on, credentials and endpoint are optional, unknown keys rejected', () => {
    const parsed = bedrockBackend.configSchema.parse({ type: 'bedrock', region: 'eu-west-1' });
    expect(parsed).toMatchObject({ promptCache: true, models: {} });
    expect(bedrockBackend.configSchema.safeParse({ type: 'bedrock', region: 'eu-west-1', retries: 3 }).success).toBe(false);
  });
});
