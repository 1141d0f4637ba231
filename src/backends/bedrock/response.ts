// Response step: a ConverseResponse → an OpenAI `chat.completion`, with the usage for metering.
// The helpers here (ids, finish reasons, usage) are shared with stream.ts.
import { randomBytes } from 'node:crypto';
import type { ConverseResponse, TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletion, ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions';
import { openAIUsage, type Usage } from '../types.js';

export type FinishReason = ChatCompletion.Choice['finish_reason'];

/** `chatcmpl-` + 128 random bits. */
export const completionId = (): string => `chatcmpl-${randomBytes(16).toString('hex')}`;

export const unixSeconds = (): number => Math.floor(Date.now() / 1000);

const FINISH_REASONS: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

/** Bedrock `stopReason` → OpenAI `finish_reason`. Unknown reasons (malformed_model_output, new
 * ones) are reported as `stop`: the answer did end, and OpenAI has no better word for it. */
export const finishReason = (stopReason: string | undefined): FinishReason =>
  (stopReason !== undefined ? FINISH_REASONS[stopReason] : undefined) ?? 'stop';

/** Normalised usage: `input` excludes cache reads and writes (Bedrock's `inputTokens` already does). */
export function toUsage(usage: TokenUsage | undefined): Usage | undefined {
  if (!usage) return undefined;
  return {
    input: usage.inputTokens ?? 0,
    output: usage.outputTokens ?? 0,
    cacheRead: usage.cacheReadInputTokens ?? 0,
    cacheWrite: usage.cacheWriteInputTokens ?? 0,
    reasoning: 0,
  };
}


export interface TranslatedResponse {
  body: ChatCompletion;
  usage: Usage | undefined;
  /** The model that answered: a prompt router names the model it picked, else the one called. */
  model: string;
}

export function fromConverseResponse(response: ConverseResponse, options: { model: string }): TranslatedResponse {
  const content = response.output?.message?.content ?? [];
  const texts: string[] = [];
  const toolCalls: ChatCompletionMessageFunctionToolCall[] = [];
  for (const block of content) {
    if (block.text !== undefined) texts.push(block.text);
    else if (block.toolUse) {
      toolCalls.push({
        id: block.toolUse.toolUseId ?? '',
        type: 'function',
        function: { name: block.toolUse.name ?? '', arguments: JSON.stringify(block.toolUse.input ?? {}) },
      });
    }
    // reasoningContent, citations and other blocks have no place in a chat.completion message.
  }
  const usage = toUsage(response.usage);
  const model = response.trace?.promptRouter?.invokedModelId ?? options.model;
  const message: ChatCompletion.Choice['message'] = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : null,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const body: ChatCompletion = {
    id: completionId(),
    object: 'chat.completion',
    created: unixSeconds(),
    model,
    choices: [{ index: 0, message, finish_reason: finishReason(response.stopReason), logprobs: null }],
  };
  if (usage) body.usage = openAIUsage(usage);
  return { body, usage, model };
}
