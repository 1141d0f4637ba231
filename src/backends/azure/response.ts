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
export function exposedHeaders(headers: Headers | IncomingHttpHeaders | readonly Buffer[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (Array.isArray(headers)) return exposedRawHeaders(headers as readonly Buffer[], out);
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
    const key = exposedAs(name);
    if (key !== undefined) out[key] = value;
  });
  return out;
}

/** The name a kept header goes out under (lower-case `name`), or undefined for one not kept. */
const exposedAs = (name: string): string | undefined =>
  name === 'x-request-id'
    ? 'x-upstream-request-id'
    : name === 'apim-request-id' ||
        name === 'retry-after' ||
        name === 'retry-after-ms' ||
        name === 'x-should-retry' ||
        name === 'x-ms-region' ||
        name.startsWith('x-ratelimit-')
      ? name
      : undefined;

/** The first letters, either case, of the names exposedHeaders keeps (x-…, apim-…, retry-…). */
const mayBeExposed = (first: number | undefined): boolean => first === 0x78 || first === 0x58 || first === 0x61 || first === 0x41 || first === 0x72 || first === 0x52;

/** The same from a raw head (name, value, name, value…: undici's): a name is made a string only
 * when its first letter can start one kept (the benchmark upstream's 7 headers: 1 of them), since
 * each Buffer-to-string is a call into C++. Repeated headers are joined with ", " as above. */
function exposedRawHeaders(raw: readonly Buffer[], out: Record<string, string>): Record<string, string> {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!mayBeExposed(raw[i]![0])) continue;
    const key = exposedAs(raw[i]!.toString('latin1').toLowerCase());
    if (key === undefined) continue;
    const value = raw[i + 1]!.toString('latin1');
    const seen = out[key];
    out[key] = seen === undefined ? value : `${seen}, ${value}`;
  }
  return out;
}

/** `text`: the upstream's serialisation of `body`, when it is passed on unchanged. */
export function jsonResult(options: { status: number; headers: Headers | IncomingHttpHeaders | readonly Buffer[]; body: Json; text?: string; upstreamModel: string }): JsonResult {
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
