import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chatRequestBody, chatRequestText } from '../../../src/backends/azure/request.js';
import type { ChatBody, ChatCall } from '../../../src/backends/types.js';

/** A call as the chat route makes it: the parsed body and the text it was parsed from. */
const callOf = (text: string, stream = false): ChatCall => {
  const body = JSON.parse(text) as ChatBody;
  return { body, bodySource: { body, text }, model: body.model, stream, clientWantsStreamUsage: false };
};

/** What the text path must say: the serialised body's meaning, key for key. */
const expected = (call: ChatCall, model: string) => chatRequestBody({ ...call, bodySource: undefined }, model);

describe('chatRequestText', () => {
  it('sends the client text with the model replaced in place and include_usage added on a stream', () => {
    const text = '{ "model" : "gpt-4o",\n "messages":[{"role":"user","content":"hi { } \\"q\\""}], "stream":true, "temperature":0.25 }\n';
    const out = chatRequestText(callOf(text, true), 'gpt-4o-prod');
    expect(out).toBe('{ "model" : "gpt-4o-prod",\n "messages":[{"role":"user","content":"hi { } \\"q\\""}], "stream":true, "temperature":0.25 ,"stream_options":{"include_usage":true}}\n');
    expect(JSON.parse(out)).toEqual(expected(callOf(text, true), 'gpt-4o-prod'));
  });

  it('keeps the text as it is on a non-streamed call whose model is the upstream model', () => {
    const text = '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"seed":12345678901234567890}';
    // The client's digits, not a double's rounding of them (JSON.stringify would send 12345678901234567000).
    expect(chatRequestText(callOf(text), 'gpt-4o')).toBe(text);
  });

  it.each([
    ['a nested key named model before the top-level one', '{"metadata":{"model":"gpt-4o"},"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}', false],
    ['model as a value', '{"model":"gpt-4o","messages":[{"role":"user","content":"model"}]}', false],
    ['the model written with an escape', '{"model":"gpt\\u002d4o","messages":[{"role":"user","content":"x"}]}', false],
    ['a model written with an escape JSON.stringify does not use', '{"model":"gpt\\/4o","messages":[{"role":"user","content":"x"}]}', false],
    ['stream_options of the client', '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_obfuscation":false}}', true],
    ['stream:false on a non-streamed call', '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"stream":false}', false],
    ['stream:null on a non-streamed call', '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"stream":null}', false],
  ])('serialises the body instead when the text has %s', (_, text, stream) => {
    const call = callOf(text, stream);
    const out = chatRequestText(call, 'dep-1');
    expect(out).toBe(JSON.stringify(expected(call, 'dep-1')));
  });

  it('keeps what it does not change as the client wrote it, escapes included', () => {
    const text = '{"model":"gpt-4o","messages":[{"role":"user","content":"caf\\u00e9 \\"model\\""}],"stream":true}';
    const out = chatRequestText(callOf(text, true), 'dep-1');
    expect(out).toBe('{"model":"dep-1","messages":[{"role":"user","content":"caf\\u00e9 \\"model\\""}],"stream":true,"stream_options":{"include_usage":true}}');
    expect(JSON.parse(out)).toEqual(expected(callOf(text, true), 'dep-1'));
  });

  it('serialises the body when the text is not its own: a step made a new body (a continuation\'s prefill, a session\'s history)', () => {
    const call = callOf('{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"stream":true}', true);
    const prefilled = { ...call, body: { ...call.body, messages: [...call.body.messages, { role: 'assistant', content: 'one' }] } };
    expect(JSON.parse(chatRequestText(prefilled, 'dep-1')).messages).toEqual([{ role: 'user', content: 'x' }, { role: 'assistant', content: 'one' }]);
    expect(chatRequestText({ ...call, bodySource: undefined }, 'dep-1')).toBe('{"model":"dep-1","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}');
  });

  it('splices a model written last, right before the closing brace', () => {
    // Spaced, so the splice's text and a serialised body tell apart.
    const text = '{"messages":[{"role":"user","content":"x"}],"stream":true,"model" : "gpt-4o"}';
    expect(chatRequestText(callOf(text, true), 'dep-1')).toBe('{"messages":[{"role":"user","content":"x"}],"stream":true,"model" : "dep-1","stream_options":{"include_usage":true}}');
  });

  it('says what the serialised body says, for any body and formatting (property)', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }));
    const extra = fc.dictionary(fc.string().filter((k) => !['model', 'messages', 'stream', 'stream_options', '__proto__'].includes(k)), value, { maxKeys: 4 });
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), extra, fc.boolean(), fc.constantFrom(0, 2), fc.string({ minLength: 1 }), (model, content, rest, stream, indent, upstream) => {
        const body = { model, messages: [{ role: 'user', content }], ...rest, ...(stream ? { stream: true } : {}) };
        const call = callOf(JSON.stringify(body, null, indent), stream);
        expect(JSON.parse(chatRequestText(call, upstream))).toEqual(expected(call, upstream));
      }),
      { numRuns: 500 },
    );
  });
});
