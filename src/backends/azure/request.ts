// Request step: the client's OpenAI body → the upstream body. Only `model` (and, when streaming,
// `stream_options.include_usage`) change; every other field passes through untouched.
// https://learn.microsoft.com/azure/ai-services/openai/reference#request-body
// https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options
import type { ChatCall, EmbeddingsCall } from '../types.js';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `upstreamModel` is the Azure deployment (path on the deployments surface, body on v1) or the
 * upstream model name of an OpenAI-compatible server. */
export function chatRequestBody(call: ChatCall, upstreamModel: string): Record<string, unknown> {
  // Object.assign onto {}, not a spread: V8 gives a spread's result a hidden class outside the
  // transition tree, so each field added after it (stream_options) made a new one per request, in
  // the old generation (--log-maps).
  const body: Record<string, unknown> = Object.assign({}, call.body);
  body.model = upstreamModel;
  if (call.stream) {
    body.stream = true;
    // Always ask for the usage chunk so metering knows the tokens; stream.ts drops it again when
    // the client did not ask for it.
    body.stream_options = { ...(isObject(call.body.stream_options) ? call.body.stream_options : {}), include_usage: true };
  } else {
    // Azure rejects stream_options unless stream is true.
    delete body.stream;
    delete body.stream_options;
  }
  return body;
}

// https://learn.microsoft.com/azure/ai-services/openai/reference#embeddings
export const embeddingsRequestBody = (call: EmbeddingsCall, upstreamModel: string): Record<string, unknown> => ({
  ...call.body,
  model: upstreamModel,
});
