// What the Azure upstream receives for a chat body (src/server/middleware/json-body.ts,
// src/backends/azure/request.ts): the client's own JSON text with only the model and, on a stream,
// stream_options changed; and never that text when it would say something other than what the
// gateway checked: a top-level key written twice, or a body the limiter changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  // A stream cut on gpt-4o-prod is continued on mini-prod from the text already sent (a prefill).
  stack = await startStack({
    extraYaml: `
limits:
  default: { maxTokens: 100 }
routes:
  chat:
    kind: stateless
    backend: azure
    fallbacks: [ { backend: azure, model: gpt-4o-mini, acceptsPrefill: true } ]
    resilience: { retries: { maxAttempts: 1 } }
default: chat
`,
  });
});
afterAll(() => stack.close());

async function post(text: string): Promise<Response> {
  const res = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: text });
  await res.arrayBuffer();
  return res;
}

const upstreamText = () => stack.azure.requests.at(-1)!.text;

describe('the chat body the Azure upstream receives', () => {
  it('is the client text with the deployment as model, and include_usage added on a stream', async () => {
    const sent = '{ "model": "gpt-4o", "max_tokens": 50, "stream": true,\n  "messages": [{"role": "user", "content": "Hi {\\"there\\"}"}] }';
    expect((await post(sent)).status).toBe(200);
    expect(upstreamText()).toBe('{ "model": "gpt-4o-prod", "max_tokens": 50, "stream": true,\n  "messages": [{"role": "user", "content": "Hi {\\"there\\"}"}] ,"stream_options":{"include_usage":true}}');
    const plain = '{"model":"gpt-4o","max_tokens":50,"messages":[{"role":"user","content":"Hi"}]}';
    expect((await post(plain)).status).toBe(200);
    expect(upstreamText()).toBe(plain.replace('"gpt-4o"', '"gpt-4o-prod"'));
  });

  it('is serialised from the parsed body when a top-level key is written twice: the value checked is the value sent', async () => {
    // JSON.parse keeps the last max_tokens (10, under the ceiling of 100); an upstream that kept the first must never see it.
    const sent = '{"model":"gpt-4o","max_tokens":100000,"messages":[{"role":"user","content":"Hi"}],"max_tokens":10}';
    expect((await post(sent)).status).toBe(200);
    expect(upstreamText()).not.toContain('100000');
    expect(JSON.parse(upstreamText())).toMatchObject({ model: 'gpt-4o-prod', max_tokens: 10 });
  });

  it('is serialised from the parsed body when a top-level name is written with an escape', async () => {
    // The text's only plain "model" is the nested one: replacing it would leave the top-level one as the client's.
    const sent = '{"mod\\u0065l":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"Hi"}],"metadata":{"model":"gpt-4o"}}';
    expect((await post(sent)).status).toBe(200);
    expect(JSON.parse(upstreamText())).toEqual({ model: 'gpt-4o-prod', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }], metadata: { model: 'gpt-4o' } });
  });

  it('is serialised from the continuation\'s body, prefill and all, when a fallback continues a cut stream', async () => {
    stack.azure.faults.push({ path: 'gpt-4o-prod', cutAfterChunks: 3, resetConnection: true });
    const sent = '{"model":"gpt-4o","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Tell me about foxes"}]}';
    const res = await post(sent);
    expect(res.status).toBe(200);
    const [cut, continued] = stack.azure.requests.slice(-2);
    expect(cut!.path).toContain('gpt-4o-prod');
    expect(continued!.path).toContain('mini-prod');
    const messages = (JSON.parse(continued!.text) as { messages: { role: string; content: string }[] }).messages;
    expect(messages).toHaveLength(2);
    expect(messages[1]).toMatchObject({ role: 'assistant', content: expect.any(String) });
    expect(messages[1]!.content.length).toBeGreaterThan(0);
  });

  it('is serialised from the body the limiter filled in, not the client text without it', async () => {
    expect((await post('{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}')).status).toBe(200);
    expect(JSON.parse(upstreamText())).toEqual({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 100 });
  });
});
