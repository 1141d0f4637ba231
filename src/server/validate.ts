// Strict checks on the few request fields the gateway itself reads; everything else passes through
// untouched for the upstream to judge.
import type { ChatBody } from '../backends/types.js';
import { invalidRequest } from '../errors.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function requireObject(body: unknown): Record<string, unknown> {
  if (!isObject(body)) throw invalidRequest('The request body must be a JSON object.');
  return body;
}

export function requireModel(body: Record<string, unknown>): string {
  const { model } = body;
  if (model === undefined) throw invalidRequest("you must provide a model parameter", 'model', 'missing_required_parameter');
  if (typeof model !== 'string' || model.length === 0 || model.length > 256)
    throw invalidRequest("Invalid type for 'model': expected a non-empty string.", 'model', 'invalid_type');
  return model;
}

export function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidRequest(`Invalid type for '${field}': expected a boolean.`, field, 'invalid_type');
  return value;
}

export function chatBody(raw: unknown, maxMessages = Infinity): ChatBody {
  const body = requireObject(raw);
  requireModel(body);
  const { messages } = body;
  if (messages === undefined) throw invalidRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(messages)) throw invalidRequest("Invalid type for 'messages': expected an array.", 'messages', 'invalid_type');
  if (messages.length === 0) throw invalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1.", 'messages', 'empty_array');
  if (messages.length > maxMessages)
    throw invalidRequest(`Invalid 'messages': ${messages.length} messages, more than the ${maxMessages} allowed.`, 'messages', 'array_above_max_length');
  messages.forEach((m, i) => {
    if (!isObject(m) || typeof m.role !== 'string')
      throw invalidRequest(`Invalid 'messages[${i}]': expected an object with a string 'role'.`, `messages[${i}]`, 'invalid_type');
  });
  optionalBoolean(body, 'stream');
  const options = body.stream_options;
  if (options !== undefined && options !== null && !isObject(options))
    throw invalidRequest("Invalid type for 'stream_options': expected an object.", 'stream_options', 'invalid_type');
  return body as ChatBody;
}

export const wantsStreamUsage = (body: Record<string, unknown>): boolean =>
  isObject(body.stream_options) && body.stream_options.include_usage === true;
