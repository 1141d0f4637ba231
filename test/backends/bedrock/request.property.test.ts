// Properties of the request translation over random conversations: whatever the client sends,
// what reaches Bedrock follows its rules, and the cache point sits exactly after the history.
import type { ContentBlock, Message } from '@aws-sdk/client-bedrock-runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toConverseInput } from '../../../src/backends/bedrock/request.js';
import type { ChatMessage } from '../../../src/backends/types.js';
import { GatewayError } from '../../../src/errors.js';

const text = fc.oneof(fc.constantFrom('', ' ', '\n', 'ends in a space ', 'ends in a newline\n'), fc.string({ minLength: 1, maxLength: 12 }));
const parts = fc.array(text.map((t) => ({ type: 'text', text: t })), { maxLength: 3 });
const content = fc.oneof(text, parts);

/** A conversation of random turns; tool messages answer the tool calls just made. */
const conversation = fc
  .array(
    fc.oneof(
      fc.record({ kind: fc.constant('system' as const), content }),
      fc.record({ kind: fc.constant('user' as const), content }),
      fc.record({ kind: fc.constant('assistant' as const), content: fc.option(content, { nil: null }), calls: fc.integer({ min: 0, max: 2 }) }),
    ),
    { minLength: 1, maxLength: 10 },
  )
  .map((turns) => {
    const messages: ChatMessage[] = [];
    let n = 0;
    for (const turn of turns) {
      if (turn.kind !== 'assistant') {
        messages.push({ role: turn.kind, content: turn.content });
        continue;
      }
      const ids = Array.from({ length: turn.calls }, () => `call_${n++}`);
      messages.push({
        role: 'assistant',
        content: turn.content,
        ...(ids.length ? { tool_calls: ids.map((id) => ({ id, type: 'function', function: { name: 'lookup', arguments: `{"n":${n}}` } })) } : {}),
      });
      for (const id of ids) messages.push({ role: 'tool', tool_call_id: id, content: `result ${id}` });
    }
    return messages;
  });

function translate(messages: ChatMessage[], historyLength?: number) {
  try {
    return toConverseInput({ body: { model: 'm', messages }, modelId: 'm', promptCache: true, historyLength });
  } catch (err) {
    if (err instanceof GatewayError && err.status === 400 && err.param === 'messages') return undefined;
    throw err;
  }
}

/** (role, block) pairs in order, the shape Bedrock's prompt prefix is made of. */
const flatten = (messages: Message[]) => messages.flatMap((m) => (m.content ?? []).map((block) => [m.role, block] as [string, ContentBlock]));

function trimFinalAssistant(blocks: Array<[string, ContentBlock]>): Array<[string, ContentBlock]> {
  const last = blocks[blocks.length - 1];
  if (last?.[0] !== 'assistant' || last[1].text === undefined) return blocks;
  return [...blocks.slice(0, -1), ['assistant', { text: last[1].text.trimEnd() }]];
}

describe('request translation properties', () => {
  it('what reaches Bedrock starts with the user, alternates roles, has no blank text, object tool inputs and no prefill ending in whitespace', () => {
    fc.assert(
      fc.property(conversation, (messages) => {
        const input = translate(messages);
        if (!input) return;
        expect(input.messages[0]?.role).toBe('user');
        input.messages.forEach((m, i) => {
          if (i > 0) expect(m.role).not.toBe(input.messages[i - 1]?.role);
          expect(m.content?.length).toBeGreaterThan(0);
          for (const block of m.content ?? []) {
            if (block.text !== undefined) expect(block.text.trim()).not.toBe('');
            if (block.toolUse) expect(typeof block.toolUse.input).toBe('object');
          }
        });
        for (const block of input.system ?? []) if (block.text !== undefined) expect(block.text.trim()).not.toBe('');
        const final = input.messages[input.messages.length - 1];
        const finalText = final?.role === 'assistant' ? final.content?.at(-1)?.text : undefined;
        if (finalText !== undefined) expect(finalText).toBe(finalText.trimEnd());
        if (JSON.stringify(input.messages).includes('toolUse')) expect(input.toolConfig?.tools?.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });

  it('the blocks before the history cache point are exactly the history translated alone', () => {
    fc.assert(
      fc.property(conversation, fc.nat(), (messages, seed) => {
        const historyLength = seed % (messages.length + 1);
        const input = translate(messages, historyLength);
        if (!input) return;
        const blocks = flatten(input.messages);
        const all = blocks.flatMap(([, b], i) => (b.cachePoint ? [i] : []));
        // The turn's own point, when there is one, closes the last (user) message; the rest is the history point.
        const last = input.messages.at(-1)!;
        const turnPoint = last.role === 'user' && 'cachePoint' in (last.content!.at(-1) as object) ? blocks.length - 1 : -1;
        const history = messages.slice(0, historyLength).filter((m) => m.role !== 'system');
        const historyInput = history.length > 0 ? translate(messages.slice(0, historyLength)) : undefined;
        let points = all.filter((i) => i !== turnPoint);
        // When the history is the whole prompt, its point is the last block and no turn point is added.
        if (points.length === 0 && turnPoint >= 0 && historyInput && flatten(historyInput.messages).length === blocks.length - 1) points = [turnPoint];
        if (!historyInput) {
          // No history message survived translation (or it cannot stand alone): at most one point.
          expect(points.length).toBeLessThanOrEqual(1);
          if (points.length === 0) return;
        }
        expect(points).toHaveLength(1);
        const expected = historyInput ? flatten(historyInput.messages) : [];
        // Alone, a history ending with the assistant is a prefill and loses trailing whitespace.
        expect(trimFinalAssistant(blocks.slice(0, points[0]))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
