// What failure handling reads from chunks, and how a continuation's chunks are made to fit.
import { describe, expect, it } from 'vitest';
import type { ChatCall, StreamChunk } from '../../src/backends/types.js';
import { asContinuation, carriesContent, chunkText, prefillCall } from '../../src/resilience/chunks.js';

const chunk = (value: Record<string, unknown>): StreamChunk => ({ json: JSON.stringify(value) });
const delta = (d: Record<string, unknown>, extra: Record<string, unknown> = {}) => chunk({ id: 'x', choices: [{ index: 0, delta: d, finish_reason: null, ...extra }] });

describe('chunks', () => {
  it.each([
    ['a role-only chunk', delta({ role: 'assistant', content: '' }), false],
    ["Azure's prompt filter chunk", chunk({ id: '', choices: [], prompt_filter_results: [{ prompt_index: 0 }] }), false],
    ['content', delta({ content: 'Hi' }), true],
    ['an empty text first', delta({ content: '', role: 'assistant' }), false],
    ['a role chunk quoting a text delta in a string', delta({ role: 'assistant', content: '' }, { note: '"delta":{"content":"x' }), false],
    ['a tool call', delta({ tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '' } }] }), true],
    ['a finish reason', delta({}, { finish_reason: 'stop' }), true],
    ['usage', chunk({ id: 'x', choices: [], usage: { prompt_tokens: 1 } }), true],
  ])('%s carries content: %s', (_name, c, expected) => {
    expect(carriesContent(c)).toBe(expected);
  });

  it('reads the text of choice 0 and flags what a prefill cannot carry', () => {
    expect(chunkText(delta({ content: 'abc' }))).toEqual({ text: 'abc', opaque: false });
    expect(chunkText(delta({ tool_calls: [{ index: 0 }] })).opaque).toBe(true);
    expect(chunkText(chunk({ choices: [{ index: 1, delta: { content: 'other' } }] })).opaque).toBe(true);
  });

  it('builds the prefill call without trailing whitespace', () => {
    const call: ChatCall = { body: { model: 'm', messages: [{ role: 'user', content: 'q' }], stream: true }, model: 'm', stream: true, clientWantsStreamUsage: false };
    const { call: next, trimmed } = prefillCall(call, 'Hello there \n');
    expect(trimmed).toBe(true);
    expect(next.body.messages).toEqual([{ role: 'user', content: 'q' }, { role: 'assistant', content: 'Hello there' }]);
    expect(call.body.messages).toHaveLength(1);
    expect(prefillCall(call, 'Hello').trimmed).toBe(false);
  });

  it('gives continuation chunks the original id and strips the repeated leading space once', () => {
    const first = asContinuation(chunk({ id: 'other', choices: [{ index: 0, delta: { content: '  world' } }] }), 'orig', true);
    expect(first.stripped).toBe(true);
    expect(JSON.parse(first.chunk.json)).toMatchObject({ id: 'orig', choices: [{ delta: { content: 'world' } }] });
    const blank = asContinuation(chunk({ id: 'other', choices: [{ index: 0, delta: { content: ' ' } }] }), 'orig', true);
    expect(blank.stripped).toBe(false);
    const later = asContinuation(chunk({ id: 'other', choices: [{ index: 0, delta: { content: ' again' } }] }), 'orig', false);
    expect(JSON.parse(later.chunk.json).choices[0].delta.content).toBe(' again');
  });
});
