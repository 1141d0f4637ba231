// Response step (non-streamed) and the pieces the stream step shares: usage normalisation and the
// upstream headers worth showing a client.
// https://learn.microsoft.com/azure/ai-services/openai/reference#response-1 (usage, completion_tokens_details)
import type { IncomingHttpHeaders } from 'node:http';
import type { JsonResult, Usage } from '../types.js';

type Json = Record<string, unknown>;

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);
const field = (value: unknown, key: string): unknown => (typeof value === 'object' && value !== null ? (value as Json)[key] : undefined);

/** OpenAI usage → gateway Usage. `prompt_tokens` includes cached tokens; `input` must not.
 * Reasoning tokens are part of `completion_tokens` already. */
export function normaliseUsage(usage: unknown): Usage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  const prompt = count(field(usage, 'prompt_tokens'));
  const cached = Math.min(prompt, count(field(field(usage, 'prompt_tokens_details'), 'cached_tokens')));
  return {
    input: prompt - cached,
    output: count(field(usage, 'completion_tokens')),
    cacheRead: cached,
    cacheWrite: 0,
    reasoning: count(field(field(usage, 'completion_tokens_details'), 'reasoning_tokens')),
  };
}

/** Request ids and rate-limit state (on errors also the retry hints). The upstream `x-request-id`
 * is renamed so it cannot be mistaken for (or overwrite) the gateway's own request id. */
export function exposedHeaders(headers: Headers | IncomingHttpHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  // Not `instanceof Headers`: the SDK's fetch is the undici package's (connect.ts), whose Headers
  // class is not the global one. A node-style header object holds no functions.
  const each = (fn: (value: string, name: string) => void) => {
    if (typeof headers.forEach === 'function') return (headers as Headers).forEach(fn);
    // for-in, not Object.entries: no [name, value] array per header on the raw path's every call.
    const raw = headers as IncomingHttpHeaders;
    for (const name in raw) {
      const value = raw[name];
      if (value !== undefined) fn(Array.isArray(value) ? value.join(', ') : value, name);
    }
  };
  each((value, name) => {
    if (name === 'x-request-id') out['x-upstream-request-id'] = value;
    else if (
      name === 'apim-request-id' ||
      name === 'retry-after' ||
      name === 'retry-after-ms' ||
      name === 'x-should-retry' ||
      name === 'x-ms-region' ||
      name.startsWith('x-ratelimit-')
    )
      out[name] = value;
  });
  return out;
}

/** `text`: the upstream's serialisation of `body`, when it is passed on unchanged. */
export function jsonResult(options: { status: number; headers: Headers | IncomingHttpHeaders; body: Json; text?: string; upstreamModel: string }): JsonResult {
  const { body } = options;
  return {
    type: 'json',
    status: options.status,
    headers: exposedHeaders(options.headers),
    model: typeof body.model === 'string' && body.model !== '' ? body.model : options.upstreamModel,
    body,
    text: options.text,
    usage: normaliseUsage(body.usage),
  };
}
