// Azure OpenAI response shapes: the chat completion, its stream chunks, embeddings and error
// bodies, as the 2024-10-21 inference spec and captures show them.
// https://learn.microsoft.com/azure/ai-services/openai/reference#chat-completions
import { embed, textOf, type ChatPlan } from './completion.js';

type Json = Record<string, unknown>;

const safe = { filtered: false, severity: 'safe' };
const harmCategories = () => ({ hate: safe, self_harm: safe, sexual: safe, violence: safe });

export const promptFilterResults = (): Json[] => [
  { prompt_index: 0, content_filter_results: { ...harmCategories(), jailbreak: { filtered: false, detected: false } } },
];

const completionFilterResults = (): Json => ({
  ...harmCategories(),
  protected_material_code: { filtered: false, detected: false },
  protected_material_text: { filtered: false, detected: false },
});

/** Who answered: the same for every chunk of one response. */
export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
  systemFingerprint: string;
}

export const usageOf = (plan: ChatPlan): Json => ({
  completion_tokens: plan.completionTokens,
  completion_tokens_details: { accepted_prediction_tokens: 0, audio_tokens: 0, reasoning_tokens: 0, rejected_prediction_tokens: 0 },
  prompt_tokens: plan.promptTokens,
  prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
  total_tokens: plan.promptTokens + plan.completionTokens,
});

export function chatCompletion(plan: ChatPlan, meta: ResponseMeta): Json {
  const toolCalls = plan.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  return {
    // `n` choices of the one answer.
    choices: Array.from({ length: plan.choices }, (_, index) => ({
      content_filter_results: toolCalls.length > 0 ? {} : completionFilterResults(),
      finish_reason: plan.finishReason,
      index,
      logprobs: null,
      message: {
        annotations: [],
        content: toolCalls.length > 0 ? null : plan.pieces.join(''),
        refusal: null,
        role: 'assistant',
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
    })),
    created: meta.created,
    id: meta.id,
    model: meta.model,
    object: 'chat.completion',
    prompt_filter_results: promptFilterResults(),
    system_fingerprint: meta.systemFingerprint,
    usage: usageOf(plan),
  };
}

/** Size of the argument fragments of a streamed tool call. */
const ARGUMENT_FRAGMENT = 8;

/** The `data:` payloads of a streamed answer, in order, without `[DONE]`. Like Azure: first a chunk
 * with no choices carrying the prompt filter results, then a role chunk, content (or tool call)
 * deltas, the finish chunk and, when asked for, the usage chunk. With `include_usage` every other
 * chunk carries `"usage": null`, as OpenAI documents. */
export function chatChunks(plan: ChatPlan, meta: ResponseMeta, includeUsage: boolean): string[] {
  const envelope = (choices: Json[], extra: Json = {}) =>
    JSON.stringify({
      choices,
      created: meta.created,
      id: meta.id,
      model: meta.model,
      object: 'chat.completion.chunk',
      system_fingerprint: meta.systemFingerprint,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    });
  let at = 0; // the choice a chunk belongs to
  const choice = (delta: Json, filter: Json, finishReason: string | null = null): Json => ({
    content_filter_results: filter,
    delta,
    finish_reason: finishReason,
    index: at,
    logprobs: null,
  });
  // With `n` > 1 each step of the answer comes once per choice, the choices' chunks interleaved.
  const each = (chunk: () => string): void => {
    for (at = 0; at < plan.choices; at++) chunks.push(chunk());
  };

  const chunks = [JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: promptFilterResults() })];
  each(() => envelope([choice({ content: '', refusal: null, role: 'assistant' }, {})]));
  for (const piece of plan.pieces) each(() => envelope([choice({ content: piece }, completionFilterResults())]));
  plan.toolCalls.forEach((call, index) => {
    each(() => envelope([choice({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }, {})]));
    for (let i = 0; i < call.arguments.length; i += ARGUMENT_FRAGMENT)
      each(() => envelope([choice({ tool_calls: [{ index, function: { arguments: call.arguments.slice(i, i + ARGUMENT_FRAGMENT) } }] }, {})]));
  });
  each(() => envelope([choice({}, {}, plan.finishReason)]));
  if (includeUsage) chunks.push(envelope([], { usage: usageOf(plan) }));
  return chunks;
}

const EMBEDDING_DIMENSIONS = 8;

/** https://learn.microsoft.com/azure/ai-services/openai/reference#embeddings — `encoding_format: base64`
 * (what openai-node asks for by default) is little-endian float32. */
export function embeddingsResponse(body: Json, model: string): Json {
  const input = body.input;
  const inputs: unknown[] = Array.isArray(input) && !input.every((x) => typeof x === 'number') ? input : [input];
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : EMBEDDING_DIMENSIONS;
  let tokens = 0;
  const data = inputs.map((item, index) => {
    const text = Array.isArray(item) ? item.join(' ') : textOf(item);
    tokens += Array.isArray(item) ? item.length : Math.ceil(text.length / 4);
    const vector = embed(text, dimensions);
    const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

// ---- error bodies: {"error": {code, message, param?, type?, innererror?}} ----

export interface AzureErrorReply {
  status: number;
  headers?: Record<string, string>;
  body: Json;
}

export const azureErrors = {
  unauthorized: (): AzureErrorReply => ({
    status: 401,
    body: {
      error: {
        code: '401',
        message:
          'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      },
    },
  }),
  /** Real Azure has been seen answering a missing api-version with 404 "Resource not found"; the
   * simulator answers 400 so a misconfigured client fails with a message that says why. */
  missingApiVersion: (): AzureErrorReply => ({
    status: 400,
    body: { error: { code: 'MissingApiVersion', message: "Missing required query parameter 'api-version'." } },
  }),
  resourceNotFound: (): AzureErrorReply => ({ status: 404, body: { error: { code: '404', message: 'Resource not found' } } }),
  deploymentNotFound: (): AzureErrorReply => ({
    status: 404,
    body: {
      error: {
        code: 'DeploymentNotFound',
        message:
          'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      },
    },
  }),
  badRequest: (message: string, param: string | null = null): AzureErrorReply => ({
    status: 400,
    body: { error: { message, type: 'invalid_request_error', param, code: null } },
  }),
  contentFilter: (): AzureErrorReply => ({
    status: 400,
    body: {
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: {
          code: 'ResponsibleAIPolicyViolation',
          content_filter_result: {
            hate: safe,
            jailbreak: { filtered: false, detected: false },
            self_harm: safe,
            sexual: safe,
            violence: { filtered: true, severity: 'medium' },
          },
        },
      },
    },
  }),
  /** A token-rate 429 as Azure sends it, with `retry-after` (s) and `retry-after-ms`. */
  rateLimited: (seconds = 6): AzureErrorReply => ({
    status: 429,
    headers: { 'retry-after': String(seconds), 'retry-after-ms': String(seconds * 1000), 'x-ratelimit-remaining-tokens': '0' },
    body: {
      error: {
        code: '429',
        message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${seconds} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
      },
    },
  }),
};
