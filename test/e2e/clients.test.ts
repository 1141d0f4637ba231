// Other popular clients, unchanged but for the base URL: the Vercel AI SDK (Responses and Chat
// Completions providers) and LangChain's ChatOpenAI, streaming and tools included.
import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, streamText, tool, stepCountIs } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KEY, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const weather = tool({
  description: 'Weather for a city',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, temp_c: 21 }),
});

describe('Vercel AI SDK', () => {
  const provider = () => createOpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY });

  it('generateText and streamText over Chat Completions', async () => {
    const { text, usage } = await generateText({ model: provider().chat('gpt-4o'), prompt: 'Hello from the AI SDK' });
    expect(text).toContain('Hello from the AI SDK');
    expect(usage.inputTokens).toBeGreaterThan(0);
    const result = streamText({ model: provider().chat('gpt-4o'), prompt: 'Stream from the AI SDK' });
    let streamed = '';
    for await (const delta of result.textStream) streamed += delta;
    expect(streamed).toContain('Stream from the AI SDK');
    expect((await result.usage).outputTokens).toBeGreaterThan(0);
  });

  it('tools over Chat Completions, two steps', async () => {
    const { text, steps } = await generateText({ model: provider().chat('gpt-4o'), prompt: 'Use the weather tool for Paris', tools: { weather }, stopWhen: stepCountIs(3) });
    expect(steps[0]!.toolCalls[0]?.toolName).toBe('weather');
    expect(text).toContain('21');
  });

  it('the default provider (Responses API), text and stream', async () => {
    const { text } = await generateText({ model: provider()('gpt-4o'), prompt: 'Hello via responses' });
    expect(text).toContain('Hello via responses');
    const result = streamText({ model: provider()('gpt-4o'), prompt: 'Stream via responses' });
    let streamed = '';
    for await (const delta of result.textStream) streamed += delta;
    expect(streamed).toContain('Stream via responses');
  });

  // With `store` on (its default) the provider sends what the model said before as `item_reference`s.
  it('the default provider: tools over two steps, JSON and stream, and a conversation continued by reference', async () => {
    const { text, steps } = await generateText({ model: provider()('gpt-4o'), prompt: 'Use the weather tool for Paris', tools: { weather }, stopWhen: stepCountIs(3) });
    expect(steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    expect(text).toContain('21');

    const errors: unknown[] = [];
    const result = streamText({ model: provider()('gpt-4o'), prompt: 'Use the weather tool for Lyon', tools: { weather }, stopWhen: stepCountIs(3), onError: ({ error }) => void errors.push(error) });
    let streamed = '';
    for await (const delta of result.textStream) streamed += delta;
    expect(errors).toEqual([]);
    expect(await result.steps).toHaveLength(2);
    expect(streamed).toContain('21');

    const first = await generateText({ model: provider()('gpt-4o'), prompt: 'First turn' });
    const second = await generateText({ model: provider()('gpt-4o'), messages: [{ role: 'user', content: 'First turn' }, ...first.response.messages, { role: 'user', content: 'Second turn' }] });
    expect(second.text).toContain('Second turn');
    // The reference came back as the first answer's text (stored responses route to Bedrock here).
    const sent = stack.bedrock.requests.at(-1)!.body as { messages: { role: string; content: { text?: string }[] }[] };
    expect(sent.messages.map((m) => [m.role, m.content.map((c) => c.text).join('')])).toEqual([
      ['user', 'First turn'],
      ['assistant', first.text],
      ['user', 'Second turn'],
    ]);
  });
});

describe('LangChain ChatOpenAI', () => {
  const chat = () => new ChatOpenAI({ model: 'gpt-4o', apiKey: KEY, configuration: { baseURL: `${stack.url}/v1` }, maxRetries: 0 });

  it('invoke and stream', async () => {
    const reply = await chat().invoke('Hello from LangChain');
    expect(String(reply.content)).toContain('Hello from LangChain');
    let streamed = '';
    for await (const chunk of await chat().stream('Streaming from LangChain')) streamed += String(chunk.content);
    expect(streamed).toContain('Streaming from LangChain');
  });

  it('tool calls with bindTools', async () => {
    const model = chat().bindTools([{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }]);
    const reply = await model.invoke('Use the get_weather tool for Oslo');
    expect(reply.tool_calls?.[0]?.name).toBe('get_weather');
  });

  it('a session header routes LangChain to the stateful runtime', async () => {
    const model = new ChatOpenAI({ model: 'gpt-4o', apiKey: KEY, configuration: { baseURL: `${stack.url}/v1`, defaultHeaders: { 'x-session-id': 'lc-1' } } });
    await model.invoke('first');
    await model.invoke('second');
    const sent = stack.bedrock.requests.at(-1)!.body as { messages: unknown[] };
    expect(sent.messages).toHaveLength(3);
  });
});

// The Node 22 CI run points the client imports at test/clients (vitest.config.ts): make sure it did.
describe.runIf(process.env.STATEROUTE_TEST_CLIENTS)('client releases under test', () => {
  it('are the ones STATEROUTE_TEST_CLIENTS names', async () => {
    const { VERSION } = await import('openai/version');
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const pinned = JSON.parse(await readFile(join(process.env.STATEROUTE_TEST_CLIENTS!, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(VERSION).toBe(pinned.dependencies.openai);
  });
});
