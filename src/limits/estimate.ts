// What a request may cost in tokens, judged before the call from its body alone: the prompt at
// ~4 characters a token, plus the output it asks for. The real usage replaces this afterwards.
import { invalidRequest } from '../errors.js';

export type Operation = 'chat' | 'responses' | 'embeddings';

/** Model-calling routes; every other /v1 request counts only toward requests and concurrency. */
export function operationOf(method: string, path: string): Operation | undefined {
  if (method !== 'POST') return undefined;
  if (path === '/v1/chat/completions') return 'chat';
  if (path === '/v1/responses') return 'responses';
  if (path === '/v1/embeddings') return 'embeddings';
  return undefined;
}

/** Inline media (data: URLs) are billed by the model per image, not per character. */
export const INLINE_MEDIA_TOKENS = 1_000;

/** ceil(chars / 4) over every string in the body, 1 per number (token-id inputs), iteratively. */
export function promptTokens(body: unknown): number {
  let chars = 0;
  let tokens = 0;
  const stack: unknown[] = [body];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.startsWith('data:')) tokens += INLINE_MEDIA_TOKENS;
      else chars += v.length;
    } else if (typeof v === 'number') tokens += 1;
    else if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) stack.push(x);
  }
  return tokens + Math.ceil(chars / 4);
}

/** The output-size fields each operation reads, and the one the gateway fills in when none is given. */
const OUTPUT_FIELDS: Record<Operation, { read: string[]; fill?: string }> = {
  chat: { read: ['max_completion_tokens', 'max_tokens'], fill: 'max_completion_tokens' },
  responses: { read: ['max_output_tokens'], fill: 'max_output_tokens' },
  embeddings: { read: [] },
};

export interface OutputAsk {
  /** The largest output any field asks for, and that field. */
  tokens?: number;
  field?: string;
}

/** Reads the output-size fields strictly: absent or null, or a positive integer. */
export function outputAsked(body: Record<string, unknown>, operation: Operation): OutputAsk {
  const ask: OutputAsk = {};
  for (const field of OUTPUT_FIELDS[operation].read) {
    const v = body[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
      throw invalidRequest(`Invalid '${field}': expected a positive integer.`, field, 'invalid_type');
    if (ask.tokens === undefined || v > ask.tokens) Object.assign(ask, { tokens: v, field });
  }
  return ask;
}

export const fillField = (operation: Operation): string | undefined => OUTPUT_FIELDS[operation].fill;
