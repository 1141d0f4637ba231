import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { mapBedrockError } from '../../../src/backends/bedrock/error.js';
import { translateStream } from '../../../src/backends/bedrock/stream.js';
import type { StreamChunk } from '../../../src/backends/types.js';
import { GatewayError } from '../../../src/errors.js';

const MODEL = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const logger = pino({ level: 'silent' });
const mapError = (err: unknown) => mapBedrockError(err, { signal: new AbortController().signal, logger });

/** Recorded events in order; an Error in the list is thrown by the iterator at that point (as the
 * SDK does for an exception frame). */
async function* replay(events: Array<ConverseStreamOutput | Error>): AsyncGenerator<ConverseStreamOutput> {
  for (const event of events) {
    await Promise.resolve();
    if (event instanceof Error) throw event;
    yield event;
  }
}

const ev = (e: Record<string, unknown>) => e as unknown as ConverseStreamOutput;
const USAGE = { inputTokens: 12, outputTokens: 6, totalTokens: 68, cacheReadInputTokens: 40, cacheWriteInputTokens: 10 };

const TEXT_ONLY = [
  ev({ messageStart: { role: 'assistant' } }),
  ev({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hel' } } }),
  ev({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'lo' } } }),
  ev({ contentBlockStop: { contentBlockIndex: 0 } }),
  ev({ messageStop: { stopReason: 'end_turn' } }),
  ev({ metadata: { usage: USAGE, metrics: { latencyMs: 100 } } }),
];

const TWO_TOOLS = [
  ev({ messageStart: { role: 'assistant' } }),
  ev({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Checking both.' } } }),
  ev({ contentBlockStop: { contentBlockIndex: 0 } }),
  ev({ contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_A', name: 'get_weather' } } } }),
  ev({ contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } } }),
  ev({ contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '"Paris"}' } } } }),
  ev({ contentBlockStop: { contentBlockIndex: 1 } }),
  ev({ contentBlockStart: { contentBlockIndex: 2, start: { toolUse: { toolUseId: 'tooluse_B', name: 'get_weather' } } } }),
  ev({ contentBlockDelta: { contentBlockIndex: 2, delta: { toolUse: { input: '{"city":"Oslo"}' } } } }),
  ev({ contentBlockStop: { contentBlockIndex: 2 } }),
  ev({ messageStop: { stopReason: 'tool_use' } }),
  ev({ metadata: { usage: { inputTokens: 30, outputTokens: 20, totalTokens: 50 }, metrics: { latencyMs: 100 } } }),
];

/** Chunks without id/created, after checking every chunk's json is its value's serialisation and
 * that id/created/model/object are the same throughout. */
async function collect(chunks: AsyncIterable<StreamChunk>, sink: unknown[] = []): Promise<unknown[]> {
  let id: unknown;
  for await (const chunk of chunks) {
    expect(chunk.value).toBeDefined();
    expect(chunk.json).toBe(JSON.stringify(chunk.value));
    const { id: chunkId, created, object, model, ...rest } = chunk.value as Record<string, unknown>;
    id ??= chunkId;
    expect(chunkId).toBe(id);
    expect(chunkId).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(typeof created).toBe('number');
    expect([object, model]).toEqual(['chat.completion.chunk', MODEL]);
    sink.push(rest);
  }
  return sink;
}

const d = (delta: Record<string, unknown>) => ({ choices: [{ index: 0, delta, finish_reason: null }] });

describe('ConverseStream → chat.completion.chunk', () => {
  it('text only, usage chunk when asked', async () => {
    const t = translateStream(replay(TEXT_ONLY), { model: MODEL, clientWantsStreamUsage: true, mapError });
    expect(await collect(t.chunks)).toEqual([
      d({ role: 'assistant' }),
      d({ content: 'Hel' }),
      d({ content: 'lo' }),
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { choices: [], usage: { prompt_tokens: 62, completion_tokens: 6, total_tokens: 68, prompt_tokens_details: { cached_tokens: 40 } } },
    ]);
    expect(t.usage()).toEqual({ input: 12, output: 6, cacheRead: 40, cacheWrite: 10, reasoning: 0 });
  });

  it("the answering model: the one called, or the prompt router's pick once metadata names it", async () => {
    const routed = [...TEXT_ONLY.slice(0, 5), ev({ metadata: { usage: USAGE, metrics: { latencyMs: 1 }, trace: { promptRouter: { invokedModelId: 'picked-model' } } } })];
    const t = translateStream(replay(routed), { model: MODEL, clientWantsStreamUsage: false, mapError });
    expect(t.model()).toBe(MODEL);
    await collect(t.chunks);
    expect(t.model()).toBe('picked-model');
  });

  it('no usage chunk unless asked, but usage is still recorded', async () => {
    const t = translateStream(replay(TEXT_ONLY), { model: MODEL, clientWantsStreamUsage: false, mapError });
    const chunks = await collect(t.chunks);
    expect(chunks).toHaveLength(4);
    expect(chunks.at(-1)).toEqual({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    expect(t.usage()).toEqual({ input: 12, output: 6, cacheRead: 40, cacheWrite: 10, reasoning: 0 });
  });

  it('two parallel tool calls: OpenAI indexes count tool calls, not content blocks', async () => {
    const t = translateStream(replay(TWO_TOOLS), { model: MODEL, clientWantsStreamUsage: false, mapError });
    expect(await collect(t.chunks)).toEqual([
      d({ role: 'assistant' }),
      d({ content: 'Checking both.' }),
      d({ tool_calls: [{ index: 0, id: 'tooluse_A', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      d({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      d({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      d({ tool_calls: [{ index: 1, id: 'tooluse_B', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      d({ tool_calls: [{ index: 1, function: { arguments: '{"city":"Oslo"}' } }] }),
      { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
    ]);
    expect(t.usage()).toEqual({ input: 30, output: 20, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
  });

  it('a tool-only answer carries no content at all (assembled, it reads content: null like the non-stream answer)', async () => {
    const toolOnly = [TWO_TOOLS[0]!, ...TWO_TOOLS.slice(3, 7), TWO_TOOLS[10]!];
    const t = translateStream(replay(toolOnly), { model: MODEL, clientWantsStreamUsage: false, mapError });
    const chunks = (await collect(t.chunks)) as Array<{ choices: Array<{ delta: Record<string, unknown> }> }>;
    expect(chunks.some((c) => 'content' in (c.choices[0]?.delta ?? {}))).toBe(false);
    expect(chunks).toHaveLength(5);
  });

  it('an empty answer still starts with the role chunk and ends with finish_reason', async () => {
    const t = translateStream(replay([ev({ messageStop: { stopReason: 'max_tokens' } })]), { model: MODEL, clientWantsStreamUsage: true, mapError });
    expect(await collect(t.chunks)).toEqual([d({ role: 'assistant' }), { choices: [{ index: 0, delta: {}, finish_reason: 'length' }] }]);
    expect(t.usage()).toBeUndefined();
  });

  it('exception mid-stream (thrown by the SDK iterator): the partial chunks, then a GatewayError', async () => {
    const throttled = Object.assign(new Error('Too many tokens, please wait before trying again.'), { name: 'ThrottlingException', $fault: 'client', $metadata: {} });
    const t = translateStream(replay([...TEXT_ONLY.slice(0, 3), throttled]), { model: MODEL, clientWantsStreamUsage: true, mapError });
    const seen: unknown[] = [];
    const err = await collect(t.chunks, seen).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(seen).toEqual([d({ role: 'assistant' }), d({ content: 'Hel' }), d({ content: 'lo' })]);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 429, type: 'rate_limit_error', message: 'Too many tokens, please wait before trying again.' });
    expect(t.usage()).toBeUndefined();
  });

  it('exception delivered as an event member maps the same way', async () => {
    const t = translateStream(replay([TEXT_ONLY[0]!, ev({ modelStreamErrorException: { message: 'secret internals', originalStatusCode: 500 } })]), {
      model: MODEL,
      clientWantsStreamUsage: false,
      mapError,
    });
    const seen: unknown[] = [];
    const err = await collect(t.chunks, seen).catch((e: unknown) => e);
    expect(seen).toEqual([d({ role: 'assistant' })]);
    expect(err).toMatchObject({ status: 502, code: 'model_error' });
    expect((err as Error).message).not.toContain('secret');
  });

  it('a stream that ends without messageStop is an error, not a complete-looking answer', async () => {
    const t = translateStream(replay(TEXT_ONLY.slice(0, 4)), { model: MODEL, clientWantsStreamUsage: true, mapError });
    const seen: unknown[] = [];
    const err = await collect(t.chunks, seen).catch((e: unknown) => e);
    expect(seen).toHaveLength(3);
    expect(seen.some((c) => JSON.stringify(c).includes('finish_reason":"'))).toBe(false);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 502, code: 'upstream_stream_truncated' });
  });

  it('yields each chunk as its event arrives', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* slow(): AsyncGenerator<ConverseStreamOutput> {
      yield TEXT_ONLY[0]!;
      yield TEXT_ONLY[1]!;
      await gate;
      yield* TEXT_ONLY.slice(2);
    }
    const it = translateStream(slow(), { model: MODEL, clientWantsStreamUsage: false, mapError }).chunks;
    expect((await it.next()).value?.value).toMatchObject(d({ role: 'assistant' }));
    expect((await it.next()).value?.value).toMatchObject(d({ content: 'Hel' }));
    release();
    const rest: unknown[] = [];
    for await (const c of it) rest.push(c.value);
    expect(rest).toHaveLength(2);
  });

  it('abort between events: no further chunk, the abort reason is thrown', async () => {
    const controller = new AbortController();
    const t = translateStream(replay(TEXT_ONLY), {
      model: MODEL,
      clientWantsStreamUsage: false,
      signal: controller.signal,
      mapError: (err) => mapBedrockError(err, { signal: controller.signal, logger }),
    });
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const chunk of t.chunks) {
        seen.push(chunk.value);
        controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(seen).toHaveLength(1);
    expect(err).toBe(controller.signal.reason);
    expect((err as Error).name).toBe('AbortError');
  });

  it('abort while iterating rethrows the abort error itself', async () => {
    const controller = new AbortController();
    controller.abort();
    const abortError = Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    const t = translateStream(replay([TEXT_ONLY[0]!, abortError]), {
      model: MODEL,
      clientWantsStreamUsage: false,
      mapError: (err) => mapBedrockError(err, { signal: controller.signal, logger }),
    });
    const err = await collect(t.chunks).catch((e: unknown) => e);
    expect(err).toBe(abortError);
  });
});
