// The prompt-cache model on its own, with a controlled clock.
import { describe, expect, it } from 'vitest';
import { PromptCache } from '../../../src/simulators/bedrock/cache.js';
import { layoutPrompt } from '../../../src/simulators/bedrock/tokens.js';
import type { ConverseRequest, Message } from '../../../src/simulators/bedrock/types.js';

const cp = { cachePoint: { type: 'default' } };
const msg = (role: Message['role'], text: string, cached = false): Message => ({ role, content: cached ? [{ text }, cp] : [{ text }] });
const request = (messages: Message[]): ConverseRequest => ({ system: [{ text: 'S'.repeat(400) }, cp], messages });

describe('PromptCache', () => {
  it('reads the longest cached prefix and writes the rest up to the last cachePoint', () => {
    let now = 0;
    const cache = new PromptCache({ ttlMs: 1000, now: () => now });
    const turn1 = request([msg('user', 'a'.repeat(40))]);
    expect(cache.account('m', layoutPrompt(turn1))).toEqual({ inputTokens: 13, cacheReadInputTokens: 0, cacheWriteInputTokens: 100 });
    now = 500;
    const turn2 = request([msg('user', 'a'.repeat(40)), msg('assistant', 'b'.repeat(40), true), msg('user', 'c'.repeat(8))]);
    expect(cache.account('m', layoutPrompt(turn2))).toEqual({ inputTokens: 5, cacheReadInputTokens: 100, cacheWriteInputTokens: 26 });
  });

  it('reads only the common part of an edited history', () => {
    const cache = new PromptCache({ ttlMs: 1000, now: () => 0 });
    cache.account('m', layoutPrompt(request([msg('user', 'a'.repeat(40)), msg('assistant', 'b'.repeat(40), true), msg('user', 'x')])));
    // Same first message, different assistant answer: the first message (and system) are still cached.
    const edited = request([msg('user', 'a'.repeat(40)), msg('assistant', 'B'.repeat(40), true), msg('user', 'x')]);
    expect(cache.account('m', layoutPrompt(edited))).toEqual({ inputTokens: 4, cacheReadInputTokens: 113, cacheWriteInputTokens: 13 });
  });

  it('expires entries after the TTL, and a read refreshes it', () => {
    let now = 0;
    const cache = new PromptCache({ ttlMs: 1000, now: () => now });
    const layout = layoutPrompt(request([msg('user', 'hi')]));
    cache.account('m', layout);
    now = 900;
    expect(cache.account('m', layout).cacheReadInputTokens).toBe(100);
    now = 1800; // 900 ms after the refresh
    expect(cache.account('m', layout).cacheReadInputTokens).toBe(100);
    now = 2801;
    expect(cache.account('m', layout)).toMatchObject({ cacheReadInputTokens: 0, cacheWriteInputTokens: 100 });
  });

  it('keys entries by model', () => {
    const cache = new PromptCache({ ttlMs: 1000, now: () => 0 });
    const layout = layoutPrompt(request([msg('user', 'hi')]));
    cache.account('a', layout);
    expect(cache.account('b', layout).cacheReadInputTokens).toBe(0);
  });

  it('bills without cache fields when the prompt has no cachePoint', () => {
    const cache = new PromptCache({ ttlMs: 1000 });
    expect(cache.account('m', layoutPrompt({ messages: [msg('user', 'hello')] }))).toEqual({ inputTokens: 5 });
  });

  it('counts a cachePoint in the tool list', () => {
    const cache = new PromptCache({ ttlMs: 1000, now: () => 0 });
    const layout = layoutPrompt({
      messages: [msg('user', 'hello')],
      toolConfig: { tools: [{ toolSpec: { name: 't', inputSchema: { json: { type: 'object' } } } }, cp] },
    });
    const toolTokens = Math.ceil(JSON.stringify({ name: 't', inputSchema: { json: { type: 'object' } } }).length / 4);
    expect(cache.account('m', layout)).toEqual({ inputTokens: 5, cacheReadInputTokens: 0, cacheWriteInputTokens: toolTokens });
  });
});
