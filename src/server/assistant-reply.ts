// The assistant message a session stores for a turn: from a JSON completion, or assembled from
// the chunks of a stream (content concatenated, tool calls merged by their OpenAI `index`).
import type { ChatMessage, StreamChunk } from '../backends/types.js';

interface ToolCallDelta {
  index: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

type Obj = Record<string, unknown>;

export function replyFromCompletion(body: Obj): ChatMessage | undefined {
  const message = ((body.choices as Obj[] | undefined)?.[0]?.message ?? undefined) as Obj | undefined;
  if (!message) return undefined;
  return normalise(message.content as string | null | undefined, message.tool_calls as ToolCallDelta[] | undefined);
}

export function replyFromChunks(chunks: StreamChunk[]): ChatMessage | undefined {
  let content = '';
  let sawContent = false;
  const calls = new Map<number, { id?: string; type: string; function: { name: string; arguments: string } }>();
  for (const chunk of chunks) {
    const value = (chunk.value ?? JSON.parse(chunk.json)) as Obj;
    const delta = ((value.choices as Obj[] | undefined)?.[0]?.delta ?? undefined) as Obj | undefined;
    if (!delta) continue;
    if (typeof delta.content === 'string') {
      content += delta.content;
      sawContent = true;
    }
    for (const d of (delta.tool_calls as ToolCallDelta[] | undefined) ?? []) {
      const call = calls.get(d.index) ?? { type: 'function', function: { name: '', arguments: '' } };
      if (d.id) call.id = d.id;
      if (d.function?.name) call.function.name += d.function.name;
      if (d.function?.arguments) call.function.arguments += d.function.arguments;
      calls.set(d.index, call);
    }
  }
  if (!sawContent && calls.size === 0) return undefined;
  const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([index, c]) => ({ index, ...c }));
  return normalise(sawContent ? content : null, toolCalls.length ? toolCalls : undefined);
}

/** The shape clients send back in later turns, so a full-history client's copy hashes equal. */
function normalise(content: string | null | undefined, toolCalls: ToolCallDelta[] | undefined): ChatMessage {
  const message: ChatMessage = { role: 'assistant', content: content ?? null };
  if (toolCalls?.length)
    message.tool_calls = toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.function?.name ?? '', arguments: c.function?.arguments ?? '' } }));
  return message;
}
