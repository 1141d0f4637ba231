// Translation, request side: a Responses API request (plus the stored conversation of its
// `previous_response_id` chain) → one chat completions request for the backends.
// Responses: https://platform.openai.com/docs/api-reference/responses/create
// Chat:      https://platform.openai.com/docs/api-reference/chat/create
// Migration: https://platform.openai.com/docs/guides/migrate-to-responses
import type { ChatBody, ChatMessage } from '../../backends/types.js';
import { newId } from './ids.js';
import type { InputItemResource } from './types.js';
import type { FunctionTool, InputContentPart, InputItem, MessageItem, ResponsesRequest, ToolChoice } from './validate.js';

/** The request's input as stored items with ids (what `input_items` lists, in request order); an
 * item without an id of its own gets one from `id` (ids.ts: itemIds, so it can be referenced). */
export function inputItemResources(input: ResponsesRequest['input'], id: (prefix: 'msg' | 'fc' | 'fco') => string = newId): InputItemResource[] {
  if (typeof input === 'string') return [{ id: id('msg'), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: input }] }];
  return input.map((item): InputItemResource => {
    if (item.type === 'function_call') return { ...item, id: item.id ?? id('fc'), status: 'completed' } as InputItemResource;
    if (item.type === 'function_call_output') return { ...item, id: item.id ?? id('fco'), status: 'completed' } as InputItemResource;
    const m = item as MessageItem;
    const content = typeof m.content === 'string' ? [{ type: m.role === 'assistant' ? 'output_text' : 'input_text', text: m.content, ...(m.role === 'assistant' ? { annotations: [] } : {}) }] : m.content;
    return { ...m, id: m.id ?? id('msg'), type: 'message', status: 'completed', content } as InputItemResource;
  });
}

function userContent(parts: InputContentPart[]): unknown[] {
  return parts.map((p) =>
    p.type === 'input_image'
      ? { type: 'image_url', image_url: { url: p.image_url, ...(p.detail ? { detail: p.detail } : {}) } }
      : { type: 'text', text: p.type === 'refusal' ? p.refusal : p.text },
  );
}

const textOf = (parts: InputContentPart[]): string =>
  parts.map((p) => (p.type === 'refusal' ? p.refusal : p.type === 'input_image' ? '' : p.text)).join('');

/**
 * Input (or output) items → chat messages. A `function_call` joins the assistant message right
 * before it (text + tool_calls, as chat completions return them); a `function_call_output` is a
 * `tool` message. Output items are valid input items, so replies go through here too.
 */
export function itemsToMessages(items: readonly InputItem[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const item of items) {
    if (item.type === 'function_call') {
      const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
      const last = out.at(-1);
      if (last?.role === 'assistant') last.tool_calls = [...((last.tool_calls as unknown[] | undefined) ?? []), call];
      else out.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (item.type === 'function_call_output') {
      out.push({ role: 'tool', tool_call_id: item.call_id, content: typeof item.output === 'string' ? item.output : textOf(item.output) });
    } else {
      const m = item as MessageItem;
      if (m.role === 'assistant') out.push({ role: 'assistant', content: typeof m.content === 'string' ? m.content : textOf(m.content) });
      else out.push({ role: m.role, content: typeof m.content === 'string' ? m.content : userContent(m.content) });
    }
  }
  return out;
}

const chatTool = (t: FunctionTool) => ({
  type: 'function',
  function: { name: t.name, ...(t.description != null ? { description: t.description } : {}), ...(t.parameters != null ? { parameters: t.parameters } : {}), ...(t.strict != null ? { strict: t.strict } : {}) },
});

const chatToolChoice = (c: ToolChoice) => (typeof c === 'string' ? c : { type: 'function', function: { name: c.name } });

function responseFormat(text: ResponsesRequest['text']): Record<string, unknown> | undefined {
  const format = text?.format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  const { type: _type, name, schema, strict, description } = format as { type: string; name: string; schema: unknown; strict?: boolean | null; description?: string | null };
  return { type: 'json_schema', json_schema: { name, schema, ...(strict != null ? { strict } : {}), ...(description != null ? { description } : {}) } };
}

export interface ChatRequest {
  body: ChatBody;
  /** This turn's new messages (no system message: instructions are not carried over). */
  turn: ChatMessage[];
  /** Messages before `turn` that come from storage (a prompt-cache point belongs after them). */
  historyLength: number;
}

/** `history` is the stored conversation of the previous_response_id chain, oldest first. */
export function toChatRequest(req: ResponsesRequest, history: readonly ChatMessage[], model: string): ChatRequest {
  const turn = itemsToMessages(typeof req.input === 'string' ? [{ role: 'user', content: req.input }] : req.input);
  const system: ChatMessage[] = req.instructions ? [{ role: 'system', content: req.instructions }] : [];
  const tools = req.tools.map(chatTool);
  const format = responseFormat(req.text);
  const body: ChatBody = {
    model,
    messages: [...system, ...history, ...turn],
    stream: req.stream === true,
    ...(tools.length ? { tools } : {}),
    ...(tools.length && req.tool_choice ? { tool_choice: chatToolChoice(req.tool_choice) } : {}),
    ...(tools.length && req.parallel_tool_calls != null ? { parallel_tool_calls: req.parallel_tool_calls } : {}),
    ...(req.max_output_tokens != null ? { max_tokens: req.max_output_tokens } : {}),
    ...(req.temperature != null ? { temperature: req.temperature } : {}),
    ...(req.top_p != null ? { top_p: req.top_p } : {}),
    ...(format ? { response_format: format } : {}),
  };
  return { body, turn, historyLength: system.length + history.length };
}
