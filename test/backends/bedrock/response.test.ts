import type { ConverseResponse } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { finishReason, fromConverseResponse } from '../../../src/backends/bedrock/response.js';

const MODEL = 'anthropic.claude-haiku-4-5-20251001-v1:0';

const response = (content: unknown[], stopReason: string, usage?: ConverseResponse['usage']): ConverseResponse =>
  ({ output: { message: { role: 'assistant', content } }, stopReason, usage, metrics: { latencyMs: 10 } }) as ConverseResponse;

describe('ConverseResponse → chat.completion', () => {
  it('text answer with usage including cache tokens', () => {
    const { body, usage } = fromConverseResponse(
      response([{ text: 'Hello' }, { text: ', world' }], 'end_turn', { inputTokens: 10, outputTokens: 5, totalTokens: 115, cacheReadInputTokens: 80, cacheWriteInputTokens: 20 }),
      { model: MODEL },
    );
    expect(body).toEqual({
      id: expect.stringMatching(/^chatcmpl-[0-9a-f]{32}$/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello, world', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 110, completion_tokens: 5, total_tokens: 115, prompt_tokens_details: { cached_tokens: 80 } },
    });
    expect(Math.abs(body.created - Date.now() / 1000)).toBeLessThan(5);
    expect(usage).toEqual({ input: 10, output: 5, cacheRead: 80, cacheWrite: 20, reasoning: 0 });
  });

  it('tool calls: id = toolUseId, arguments = JSON of input, content null without text', () => {
    const { body } = fromConverseResponse(
      response(
        [
          { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } },
          { toolUse: { toolUseId: 'tooluse_2', name: 'now', input: {} } },
        ],
        'tool_use',
        { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
      ),
      { model: MODEL },
    );
    expect(body.choices[0]).toEqual({
      index: 0,
      logprobs: null,
      finish_reason: 'tool_calls',
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          { id: 'tooluse_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'tooluse_2', type: 'function', function: { name: 'now', arguments: '{}' } },
        ],
      },
    });
    expect(body.usage).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it('text with a tool call; reasoning blocks are left out', () => {
    const { body } = fromConverseResponse(
      response([{ reasoningContent: { reasoningText: { text: 'hmm' } } }, { text: 'Let me check.' }, { toolUse: { toolUseId: 't', name: 'f', input: { a: [1] } } }], 'tool_use'),
      { model: MODEL },
    );
    expect(body.choices[0]?.message.content).toBe('Let me check.');
    expect(body.choices[0]?.message.tool_calls).toEqual([{ id: 't', type: 'function', function: { name: 'f', arguments: '{"a":[1]}' } }]);
    expect(body.usage).toBeUndefined();
  });

  it('a prompt router names the model that answered', () => {
    const routed = { ...response([{ text: 'x' }], 'end_turn'), trace: { promptRouter: { invokedModelId: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0' } } };
    const { body, model } = fromConverseResponse(routed, { model: 'arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1' });
    expect(model).toBe('arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0');
    expect(body.model).toBe(model);
    expect(fromConverseResponse(response([{ text: 'x' }], 'end_turn'), { model: MODEL }).model).toBe(MODEL);
  });

  it('ids are unique', () => {
    const ids = new Set(Array.from({ length: 100 }, () => fromConverseResponse(response([{ text: 'x' }], 'end_turn'), { model: MODEL }).body.id));
    expect(ids.size).toBe(100);
  });
});

describe('finish_reason', () => {
  const table: Array<[string | undefined, string]> = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['guardrail_intervened', 'content_filter'],
    ['content_filtered', 'content_filter'],
    ['malformed_model_output', 'stop'],
    [undefined, 'stop'],
  ];
  for (const [stop, finish] of table) {
    it(`${stop} → ${finish}`, () => expect(finishReason(stop)).toBe(finish));
  }
});
