// What failure handling needs to know about chat stream chunks: whether one carries content (the
// first-token timeout and the peek stop there), the text it adds (for a continuation's prefill),
// and how to make a continuation's chunks read as the same answer.
import { openAIUsage, type ChatBody, type ChatCall, type StreamChunk, type Usage } from '../backends/types.js';

type Obj = Record<string, unknown>;

const valueOf = (chunk: StreamChunk): Obj => (chunk.value ?? (JSON.parse(chunk.json) as Obj));

const choicesOf = (value: Obj): Obj[] => (Array.isArray(value.choices) ? (value.choices as Obj[]) : []);

/** A delta whose first field is a non-empty text: `"delta":{"content":"` followed by anything but the
 * closing quote. Read off the JSON without parsing it: a quote inside a JSON string is always escaped,
 * so a match with a bare `a"` in it is structure, never text inside a string. The opening quote is
 * checked apart: V8 searches much slower for a pattern that starts with a `"`. */
const TEXT_DELTA = 'delta":{"content":"';
const textDeltaIn = (json: string): boolean => {
  const at = json.indexOf(TEXT_DELTA);
  return at > 0 && json.charCodeAt(at - 1) === 0x22 && json.charCodeAt(at + TEXT_DELTA.length) !== 0x22;
};

/** A chunk recognised as text without parsing it (carriesContent is then true too). A batch's first
 * chunk is often the role-only one, which carriesContent must parse to rule out: asking this of the
 * whole batch first finds the text chunk after it without that parse. */
export const startsWithText = (chunk: StreamChunk): boolean => chunk.value === undefined && textDeltaIn(chunk.json);

/** True once a chunk says something: content, a tool call, a refusal, a finish reason or usage.
 * Role-only chunks and Azure's `prompt_filter_results` chunk carry nothing and may be held back.
 * The common text chunk is recognised without parsing it. */
export function carriesContent(chunk: StreamChunk): boolean {
  if (startsWithText(chunk)) return true;
  const value = valueOf(chunk);
  if (value.usage || value.error) return true;
  for (const choice of choicesOf(value)) {
    if (choice.finish_reason) return true;
    const delta = (choice.delta ?? {}) as Obj;
    for (const [key, field] of Object.entries(delta)) {
      if (key === 'role') continue;
      if (field === null || field === undefined || field === '') continue;
      if (Array.isArray(field) && field.length === 0) continue;
      return true;
    }
  }
  return false;
}

export interface ChunkText {
  /** Text content this chunk adds to choice 0. */
  text: string;
  /** Something a text prefill cannot reproduce (tool calls, other choices, reasoning). */
  opaque: boolean;
}

export function chunkText(chunk: StreamChunk): ChunkText {
  let text = '';
  let opaque = false;
  for (const choice of choicesOf(valueOf(chunk))) {
    const delta = (choice.delta ?? {}) as Obj;
    if ((choice.index ?? 0) !== 0) {
      if (delta.content) opaque = true;
      continue;
    }
    if (typeof delta.content === 'string') text += delta.content;
    if ((Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) || delta.refusal || delta.reasoning_content) opaque = true;
  }
  return { text, opaque };
}

/** The call asking a fallback to continue `sent`, the text the client already has. Providers reject
 * a prefill ending in whitespace, so it is trimmed; `trimmed` tells the caller to drop the
 * whitespace the model will most likely repeat at the start of its continuation. */
export function prefillCall(call: ChatCall, sent: string): { call: ChatCall; trimmed: boolean } {
  const prefill = sent.trimEnd();
  const body: ChatBody = { ...call.body, stream: true, messages: [...call.body.messages, { role: 'assistant', content: prefill }] };
  return { call: { ...call, body, stream: true }, trimmed: prefill.length !== sent.length };
}

/** A continuation chunk made part of the answer the client is reading: the original completion id,
 * and (once) without the leading whitespace the prefill trimmed. */
export function asContinuation(chunk: StreamChunk, id: string | undefined, stripLeadingSpace: boolean): { chunk: StreamChunk; stripped: boolean } {
  const value = { ...valueOf(chunk) };
  if (id !== undefined) value.id = id;
  let stripped = false;
  if (stripLeadingSpace) {
    value.choices = choicesOf(value).map((choice) => {
      const delta = (choice.delta ?? {}) as Obj;
      if ((choice.index ?? 0) !== 0 || typeof delta.content !== 'string' || delta.content === '') return choice;
      const content = delta.content.replace(/^\s+/, '');
      // Whitespace-only deltas are emptied and the stripping goes on with the next chunk.
      stripped = content !== '';
      return { ...choice, delta: { ...delta, content } };
    });
  }
  return { chunk: { json: JSON.stringify(value), value }, stripped };
}


/** The usage chunk of a continued stream reports what the whole answer consumed, every attempt
 * included, as the meter records it. */
export function withUsage(chunk: StreamChunk, usage: Usage | undefined): StreamChunk {
  if (!usage) return chunk;
  const value = { ...valueOf(chunk), usage: openAIUsage(usage) };
  return { json: JSON.stringify(value), value };
}

export const completionId = (chunk: StreamChunk): string | undefined => {
  const id = valueOf(chunk).id;
  return typeof id === 'string' && id !== '' ? id : undefined;
};
