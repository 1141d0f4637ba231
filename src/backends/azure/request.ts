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

const STREAM_OPTIONS = ',"stream_options":{"include_usage":true}';

/** `chatRequestBody` as JSON text, made from the client's own text (`call.bodySource`, when it is
 * still the text of `call.body`) where that is sure to say the same: the model's value replaced in
 * place and, for a stream, `stream_options` added before the closing brace. JSON.stringify of the
 * body was ~11.6 k instructions of a streamed request (callgrind, the benchmark's 130-byte body);
 * this is a search and a few slices. The server keeps the text only when every top-level key is
 * written once and without an escape (json-body.ts), so the top-level `"model"` is in the text as
 * such; this falls back to serialising the body whenever the text does not plainly hold what is
 * changed: `"model"` written more than once (a nested key or a value of that name), the model's
 * value written otherwise than JSON.stringify writes it, a `stream_options` of the client's, or a
 * `stream` key on a call that is not streamed (Azure rejects one there, so it is dropped). */
export function chatRequestText(call: ChatCall, upstreamModel: string): string {
  return splicedChatBody(call, upstreamModel) ?? JSON.stringify(chatRequestBody(call, upstreamModel));
}

const MODEL = 'model"';

function splicedChatBody(call: ChatCall, upstreamModel: string): string | undefined {
  const { bodySource: source, body } = call;
  if (source === undefined || source.body !== body || body.stream_options !== undefined || (call.stream ? body.stream !== true : body.stream !== undefined)) return undefined;
  const { text } = source;
  // Searched without its opening quote: `indexOf` finds a pattern's first character with memchr,
  // and a quote comes every few characters of JSON where an `m` seldom does.
  let key = -1;
  for (let i = text.indexOf(MODEL); i !== -1; i = text.indexOf(MODEL, i + MODEL.length)) {
    if (text.charCodeAt(i - 1) !== 0x22 /* " */) continue;
    if (key !== -1) return undefined;
    key = i;
  }
  if (key === -1) return undefined;
  let at = skipSpace(text, key + MODEL.length);
  if (text.charCodeAt(at) !== 0x3a /* : */) return undefined;
  at = skipSpace(text, at + 1);
  // The value exactly as JSON.stringify writes it: quotes around the name, nothing escaped (an
  // escape in the text would be a backslash where the name has none).
  const { model } = body;
  const end = at + model.length + 2;
  if (text.charCodeAt(at) !== 0x22 || !text.startsWith(model, at + 1) || text.charCodeAt(end - 1) !== 0x22) return undefined;
  let close = text.length - 1;
  while (close >= end && text.charCodeAt(close) !== 0x7d /* } */) close--;
  if (close < end) return undefined;
  const value = model === upstreamModel ? text.slice(at, end) : JSON.stringify(upstreamModel);
  return call.stream
    ? text.slice(0, at) + value + text.slice(end, close) + STREAM_OPTIONS + text.slice(close)
    : text.slice(0, at) + value + text.slice(end);
}

/** The index of the first character at or after `i` that is not JSON whitespace. */
function skipSpace(text: string, i: number): number {
  for (;;) {
    const ch = text.charCodeAt(i);
    if (ch !== 0x20 && ch !== 0x0a && ch !== 0x0d && ch !== 0x09) return i;
    i++;
  }
}

// https://learn.microsoft.com/azure/ai-services/openai/reference#embeddings
export const embeddingsRequestBody = (call: EmbeddingsCall, upstreamModel: string): Record<string, unknown> => ({
  ...call.body,
  model: upstreamModel,
});
