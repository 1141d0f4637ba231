// Chain hashes over chat messages: h_i = sha256(h_{i-1} ‖ canonical(m_i)), h_{-1} = "".
// Equal hashes at position i mean equal histories up to i, so reconciliation compares one string
// per message (or bisects) instead of deep-comparing history.
//
// canonical(m) is JSON over the fields that decide what the model sees, in a fixed order:
//   [role, content, name, tool_calls as [id, function.name, function.arguments], tool_call_id]
// Everything else (refusal: null, annotations, audio ids, a tool call's `type`) is ignored, so the
// SDK's echo of an assistant message hashes like the copy the gateway stored. Content is
// normalised: null, undefined and "" are the same; a single text part equals its string; other
// part arrays are compared with sorted keys.
import { createHash } from 'node:crypto';
import type { ChatMessage } from '../backends/types.js';

export const HASH_LENGTH = 64;

export function canonicalMessage(message: ChatMessage): string {
  return JSON.stringify([
    message.role,
    canonicalContent(message.content),
    typeof message.name === 'string' ? message.name : null,
    canonicalToolCalls(message.tool_calls),
    typeof message.tool_call_id === 'string' ? message.tool_call_id : null,
  ]);
}

/** The chain hash of `message` following `previous` ("" for the first message). */
export function chainHash(previous: string, message: ChatMessage): string {
  return createHash('sha256').update(previous).update('\n').update(canonicalMessage(message)).digest('hex');
}

/** Hashes for `messages`, continuing the chain after `previous`. */
export function chainHashes(messages: readonly ChatMessage[], previous = ''): string[] {
  const out = new Array<string>(messages.length);
  for (let i = 0; i < messages.length; i++) out[i] = previous = chainHash(previous, messages[i]!);
  return out;
}

/** A short, stable, non-reversible name for a session in logs and the ledger. */
export function sessionKeyHash(tenant: string, id: string): string {
  return createHash('sha256').update(tenant).update('\0').update(id).digest('hex').slice(0, 16);
}

function canonicalContent(content: unknown): unknown {
  if (content === undefined || content === null || content === '') return null;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const only = content.length === 1 ? (content[0] as Record<string, unknown> | null) : undefined;
    if (only && only.type === 'text' && typeof only.text === 'string') return only.text === '' ? null : only.text;
    if (content.length === 0) return null;
  }
  return sortKeys(content);
}

function canonicalToolCalls(toolCalls: unknown): unknown {
  if (!Array.isArray(toolCalls) || toolCalls.length === 0) return null;
  return toolCalls.map((call: { id?: unknown; function?: { name?: unknown; arguments?: unknown } } | null) => [
    call?.id ?? null,
    call?.function?.name ?? null,
    call?.function?.arguments ?? null,
  ]);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortKeys(v);
  }
  return out;
}
