// Translation, response side: a chat completion (or the pieces of a streamed one) → a Response object.
// Response object: https://platform.openai.com/docs/api-reference/responses/object
// Chat completion: https://platform.openai.com/docs/api-reference/chat/object
import type { Usage } from '../../backends/types.js';
import { newId } from './ids.js';
import type { FunctionCallOutputItem, MessageOutputItem, OutputItem, ResponseObject } from './types.js';
import type { ResponsesRequest } from './validate.js';

const now = () => Math.floor(Date.now() / 1000);

/** The Response as it is before any output: what `response.created` carries. */
export function responseSkeleton(req: ResponsesRequest<unknown>, options: { id: string; model: string }): ResponseObject {
  return {
    id: options.id,
    object: 'response',
    created_at: now(),
    status: 'in_progress',
    completed_at: null,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: options.model,
    output: [],
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: req.store !== false,
    temperature: req.temperature ?? 1,
    text: { format: req.text?.format ?? { type: 'text' } },
    tool_choice: req.tool_choice ?? 'auto',
    tools: req.tools.map((t) => ({ type: 'function', name: t.name, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? true })),
    top_p: req.top_p ?? 1,
    truncation: 'disabled',
    usage: null,
    user: null,
    metadata: req.metadata ?? {},
  };
}

/** Gateway usage (input excludes cache reads/writes) → Responses usage (input_tokens includes them). */
export function responseUsage(usage: Usage | undefined): Record<string, unknown> | null {
  if (!usage) return null;
  const input = usage.input + usage.cacheRead + usage.cacheWrite;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.cacheRead, cache_write_tokens: usage.cacheWrite },
    output_tokens: usage.output,
    output_tokens_details: { reasoning_tokens: usage.reasoning },
    total_tokens: input + usage.output,
  };
}

/** Chat `finish_reason` → Response status. `length` and `content_filter` leave it incomplete. */
export function outcomeOf(finishReason: unknown): { status: 'completed' | 'incomplete'; incomplete_details: { reason: string } | null } {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

export const messageItem = (id: string, text: string, status: MessageOutputItem['status']): MessageOutputItem => ({
  id,
  type: 'message',
  role: 'assistant',
  status,
  content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
});

export const functionCallItem = (call: { id: string; callId: string; name: string; arguments: string; status: FunctionCallOutputItem['status'] }): FunctionCallOutputItem => ({
  id: call.id,
  type: 'function_call',
  status: call.status,
  call_id: call.callId,
  name: call.name,
  arguments: call.arguments,
});

export function finalizeResponse(skeleton: ResponseObject, end: { output: OutputItem[]; finishReason: unknown; usage: Usage | undefined }): ResponseObject {
  const { status, incomplete_details } = outcomeOf(end.finishReason);
  return { ...skeleton, status, completed_at: status === 'completed' ? now() : null, incomplete_details, output: end.output, usage: responseUsage(end.usage) };
}

interface ChatChoiceMessage {
  content?: unknown;
  refusal?: unknown;
  tool_calls?: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }[];
}

/** A non-streamed chat completion body → the Response's output items and the finish reason.
 * `id` makes the items' ids (ids.ts: itemIds, so a later `item_reference` finds them). */
export function completionOutput(completion: Record<string, unknown>, id: (prefix: 'msg' | 'fc') => string = newId): { output: OutputItem[]; finishReason: unknown } {
  const choice = (completion.choices as { message?: ChatChoiceMessage; finish_reason?: unknown }[] | undefined)?.[0];
  const message = choice?.message ?? {};
  const itemStatus = outcomeOf(choice?.finish_reason).status;
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  const text = typeof message.content === 'string' ? message.content : typeof message.refusal === 'string' ? message.refusal : '';
  const output: OutputItem[] = [];
  if (text || calls.length === 0) output.push(messageItem(id('msg'), text, itemStatus));
  for (const call of calls)
    output.push(
      functionCallItem({
        id: id('fc'),
        callId: typeof call.id === 'string' && call.id ? call.id : newId('call'),
        name: String(call.function?.name ?? ''),
        arguments: typeof call.function?.arguments === 'string' ? call.function.arguments : '',
        status: itemStatus,
      }),
    );
  return { output, finishReason: choice?.finish_reason };
}
