// One Backend for every OpenAI-shaped upstream (Azure deployments, Azure v1, OpenAI-compatible):
// resolve the model, translate the request, call the SDK, translate the response or stream.
import type OpenAI from 'openai';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import type { EmbeddingCreateParams } from 'openai/resources/embeddings';
import { GatewayError } from '../../errors.js';
import { cancellationOf } from '../cancellation.js';
import { streamResult, type Backend, type CallContext, type ChatCall, type ChatResult, type EmbeddingsCall, type JsonResult } from '../types.js';
import { fromUpstreamError, gatewayErrorFromBody } from './error.js';
import { chatRequestBody, chatRequestText, embeddingsRequestBody } from './request.js';
import { exposedHeaders, jsonResult } from './response.js';
import type { RawChat } from './raw.js';
import { upstreamStream } from './stream.js';

export interface OpenAIStyleBackendOptions {
  name: string;
  /** OpenTelemetry gen_ai.provider.name. */
  provider: string;
  client: OpenAI;
  /** Client model name → upstream model (Azure: the deployment). */
  models: Record<string, string>;
  /** Chat completions over a raw keep-alive pass-through instead of the SDK (raw.ts). */
  raw?: RawChat;
}

// OpenAI's own wording for an unknown model: https://platform.openai.com/docs/guides/error-codes
const modelNotFound = (model: string) =>
  new GatewayError({
    status: 404,
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
    type: 'invalid_request_error',
    code: 'model_not_found',
  });

export function createOpenAIStyleBackend(options: OpenAIStyleBackendOptions): Backend {
  const { client, models } = options;
  const resolve = (model: string): string => {
    const upstream = Object.hasOwn(models, model) ? models[model] : undefined;
    if (upstream === undefined) throw modelNotFound(model);
    return upstream;
  };

  // Not async: the raw path's promise goes back as it is (an async function returning it would adopt
  // it through two more microtasks); a throw before the call still comes back as a rejection.
  function chat(call: ChatCall, ctx: CallContext): Promise<ChatResult> {
    const raw = options.raw;
    if (!raw) return sdkChat(call, ctx);
    try {
      const upstreamModel = resolve(call.model);
      return rawChatCall(raw, { body: chatRequestText(call, upstreamModel), upstreamModel, stream: call.stream, clientWantsUsage: call.clientWantsStreamUsage }, ctx);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async function sdkChat(call: ChatCall, ctx: CallContext): Promise<ChatResult> {
    const upstreamModel = resolve(call.model);
    const body = chatRequestBody(call, upstreamModel);
    try {
      if (!call.stream) {
        const { data, response } = await client.chat.completions
          .create(body as unknown as ChatCompletionCreateParamsNonStreaming, { signal: ctx.signal })
          .withResponse();
        return jsonResult({ status: response.status, headers: response.headers, body: data as unknown as Record<string, unknown>, upstreamModel });
      }
      // asResponse() hands back the fetch Response with its body unread: the bytes are decoded once, in stream.ts.
      const response = await client.chat.completions
        .create(body as unknown as ChatCompletionCreateParamsStreaming, { signal: ctx.signal })
        .asResponse();
      if (!response.body) throw new GatewayError({ status: 502, message: 'The upstream sent an empty stream.', code: 'upstream_stream_incomplete' });
      const stream = upstreamStream({
        body: response.body,
        clientWantsUsage: call.clientWantsStreamUsage,
        upstreamModel,
        cancel: ctx.signal,
        logger: ctx.logger,
      });
      return streamResult({ status: response.status, headers: exposedHeaders(response.headers), model: stream.model, batches: stream.batches, usage: stream.usage });
    } catch (err) {
      throw fromUpstreamError(err, ctx.signal);
    }
  }

  async function embeddings(call: EmbeddingsCall, ctx: CallContext): Promise<JsonResult> {
    const upstreamModel = resolve(call.model);
    const body = embeddingsRequestBody(call, upstreamModel);
    try {
      // The body goes out as the client sent it: a client that did not ask for base64 gets floats
      // (the SDK asks for base64 on the wire and decodes it).
      const { data, response } = await client.embeddings
        .create(body as unknown as EmbeddingCreateParams, { signal: ctx.signal })
        .withResponse();
      return jsonResult({ status: response.status, headers: response.headers, body: data as unknown as Record<string, unknown>, upstreamModel });
    } catch (err) {
      throw fromUpstreamError(err, ctx.signal);
    }
  }

  return {
    name: options.name,
    kind: 'stateless',
    provider: options.provider,
    models: () => Object.keys(models),
    chat,
    embeddings,
  };
}

/** One chat call through the raw pass-through: the same results and errors as the SDK path. */
async function rawChatCall(
  raw: RawChat,
  call: { body: string; upstreamModel: string; stream: boolean; clientWantsUsage: boolean },
  ctx: CallContext,
): Promise<ChatResult> {
  const { upstreamModel } = call;
  const cancel = cancellationOf(ctx);
  const response = await raw({ upstreamModel, body: call.body, cancel });
  // The raw head: exposedHeaders reads the few it shows without making every header a string.
  const { status, rawHeaders } = response;
  if (status < 200 || status > 299) {
    const text = await response.body.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    throw gatewayErrorFromBody({
      status,
      error: typeof parsed === 'object' && parsed !== null ? (parsed as { error?: unknown }).error : undefined,
      fallbackMessage: `The upstream answered ${status}.`,
      headers: exposedHeaders(rawHeaders),
    });
  }
  if (!call.stream) {
    const text = await response.body.text().catch((err: unknown) => {
      throw cancel.aborted ? err : new GatewayError({ status: 502, message: 'The upstream broke off its answer.', code: 'upstream_unreachable', cause: err });
    });
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new GatewayError({ status: 502, message: 'The upstream sent a response that is not valid JSON.', code: 'upstream_invalid_response', cause: err });
    }
    return jsonResult({ status, headers: rawHeaders, body: data, text, upstreamModel });
  }
  const stream = upstreamStream({ body: response.body.chunks(), clientWantsUsage: call.clientWantsUsage, upstreamModel, cancel, logger: ctx.logger });
  return streamResult({ status, headers: exposedHeaders(rawHeaders), model: stream.model, batches: stream.batches, usage: stream.usage });
}
