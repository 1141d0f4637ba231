// The simulated model's behaviour: stop reasons, token limits, tool use round trips, and prompt
// caching across the turns of a session, through the real SDK.
import { ConverseCommand, ConverseStreamCommand, type ContentBlock, type ConverseStreamOutput, type Message, type Tool } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BedrockSimulator } from '../../../src/simulators/bedrock/index.js';
import { assistant, client, HAIKU, SONNET, startSim, user } from './helpers.js';

let sim: BedrockSimulator;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.close());

const tools: Tool[] = [
  { toolSpec: { name: 'get_weather', description: 'Weather for a city', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] } } } },
  { toolSpec: { name: 'get_time', description: 'Local time', inputSchema: { json: { type: 'object', properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } }, required: ['zone'] } } } },
];

describe('text answers', () => {
  it('stops at maxTokens with stopReason max_tokens', async () => {
    const bedrock = client(sim, 'http1');
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello there')], inferenceConfig: { maxTokens: 5 } }));
    bedrock.destroy();
    expect(res.stopReason).toBe('max_tokens');
    // 5 tokens ≈ 20 characters of the usual answer.
    expect(res.output?.message?.content).toEqual([{ text: 'Simulated answer fro' }]);
    expect(res.usage).toEqual({ inputTokens: 6, outputTokens: 5, totalTokens: 11 });
  });

  it('stops before a stop sequence with stopReason stop_sequence', async () => {
    const bedrock = client(sim, 'http2');
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello there')], inferenceConfig: { stopSequences: ['STOP', 'You said'] } }));
    bedrock.destroy();
    expect(res.stopReason).toBe('stop_sequence');
    const text = `Simulated answer from ${SONNET}. `;
    expect(res.output?.message?.content).toEqual([{ text }]);
    expect(res.usage?.outputTokens).toBe(Math.ceil(text.length / 4));
  });

  it('counts input tokens per block and per message, images at a fixed price', async () => {
    const bedrock = client(sim, 'http1');
    const res = await bedrock.send(
      new ConverseCommand({
        modelId: HAIKU,
        system: [{ text: 'x'.repeat(41) }],
        messages: [
          user('a'.repeat(100)),
          assistant('b'.repeat(7)),
          { role: 'user', content: [{ text: 'c'.repeat(4) }, { image: { format: 'png', source: { bytes: new Uint8Array([137, 80, 78, 71]) } } }] },
        ],
      }),
    );
    bedrock.destroy();
    // system 11 + (3 + 25) + (3 + 2) + (3 + 1 + 1600)
    expect(res.usage?.inputTokens).toBe(11 + 28 + 5 + 1604);
    expect(res.usage?.cacheReadInputTokens).toBeUndefined();
  });
});

describe('tool use', () => {
  it.each(['http1', 'http2'] as const)('completes a round trip through Converse over %s', async (transport) => {
    const bedrock = client(sim, transport);
    const question = user('What will the weather be in "Paris" for 3 days? Ask get_weather.');
    const first = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [question], toolConfig: { tools } }));
    expect(first.stopReason).toBe('tool_use');
    const content = first.output!.message!.content!;
    expect(content).toHaveLength(2);
    expect(content[0]).toEqual({ text: "I'll use the get_weather tool." });
    const call = content[1]!.toolUse!;
    expect(call.name).toBe('get_weather');
    expect(call.input).toEqual({ city: 'Paris', days: 3 });
    expect(call.toolUseId).toMatch(/^tooluse_[A-Za-z0-9_-]{22}$/);

    const messages: Message[] = [question, first.output!.message!, { role: 'user', content: [{ toolResult: { toolUseId: call.toolUseId!, content: [{ json: { tempC: 21, sky: 'clear' } }] } }] }];
    const second = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages, toolConfig: { tools } }));
    bedrock.destroy();
    expect(second.stopReason).toBe('end_turn');
    expect(second.output?.message?.content).toEqual([{ text: 'The get_weather tool returned: {"tempC":21,"sky":"clear"}.' }]);
  });

  it('streams a tool call as contentBlockStart plus partial JSON deltas', async () => {
    const bedrock = client(sim, 'http2');
    const res = await bedrock.send(new ConverseStreamCommand({ modelId: SONNET, messages: [user('Please use the tool for "Oslo".')], toolConfig: { tools } }));
    const events: ConverseStreamOutput[] = [];
    for await (const event of res.stream!) events.push(event);
    bedrock.destroy();

    const start = events.find((e) => e.contentBlockStart)!.contentBlockStart!;
    expect(start.contentBlockIndex).toBe(1);
    expect(start.start?.toolUse?.name).toBe('get_weather');
    const parts = events.filter((e) => e.contentBlockDelta?.contentBlockIndex === 1).map((e) => e.contentBlockDelta!.delta!.toolUse!.input!);
    expect(parts.length).toBe(3);
    expect(() => JSON.parse(parts[0]!)).toThrow();
    expect(JSON.parse(parts.join(''))).toEqual({ city: 'Oslo', days: 1 });
    expect(events.filter((e) => e.contentBlockStop).map((e) => e.contentBlockStop!.contentBlockIndex)).toEqual([0, 1]);
    expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe('tool_use');
  });

  it('forces the named tool with toolChoice.tool, without a preamble', async () => {
    const bedrock = client(sim, 'http1');
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello')], toolConfig: { tools, toolChoice: { tool: { name: 'get_time' } } } }));
    bedrock.destroy();
    expect(res.stopReason).toBe('tool_use');
    const content = res.output!.message!.content! as ContentBlock[];
    expect(content).toHaveLength(1);
    expect(content[0]!.toolUse).toMatchObject({ name: 'get_time', input: { zone: 'UTC' } });
  });

  it('forces some tool with toolChoice.any', async () => {
    const bedrock = client(sim, 'http1');
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello')], toolConfig: { tools, toolChoice: { any: {} } } }));
    bedrock.destroy();
    expect(res.stopReason).toBe('tool_use');
    expect(res.output!.message!.content![0]!.toolUse?.name).toBe('get_weather');
  });

  it('answers in text when tools are offered but not asked for', async () => {
    const bedrock = client(sim, 'http1');
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello')], toolConfig: { tools, toolChoice: { auto: {} } } }));
    bedrock.destroy();
    expect(res.stopReason).toBe('end_turn');
    expect(res.output!.message!.content![0]!.text).toContain('You said: "Hello"');
  });
});

describe('extended thinking', () => {
  const thinking = { thinking: { type: 'enabled', budget_tokens: 2048 } };
  const reasoning = 'The user wrote "Hello there". A short, direct answer fits.';
  const visible = `Simulated answer from ${SONNET}. You said: "Hello there". That is 11 characters in 1 message.`;

  it('puts a signed reasoning block before the answer and bills it as output', async () => {
    const bedrock = client(sim, 'http1');
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello there')], additionalModelRequestFields: thinking, inferenceConfig: { maxTokens: 4096 } }));
    bedrock.destroy();
    const content = res.output!.message!.content!;
    expect(content).toHaveLength(2);
    expect(content[0]!.reasoningContent?.reasoningText?.text).toBe(reasoning);
    expect(content[0]!.reasoningContent?.reasoningText?.signature).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(content[1]).toEqual({ text: visible });
    expect(res.usage?.outputTokens).toBe(Math.ceil(reasoning.length / 4) + Math.ceil(visible.length / 4));
  });

  it('streams reasoning deltas, then the signature, then the text block', async () => {
    const bedrock = client(sim, 'http2');
    const res = await bedrock.send(new ConverseStreamCommand({ modelId: SONNET, messages: [user('Hello there')], additionalModelRequestFields: thinking }));
    const events: ConverseStreamOutput[] = [];
    for await (const event of res.stream!) events.push(event);
    bedrock.destroy();
    const first = events.filter((e) => e.contentBlockDelta?.contentBlockIndex === 0).map((e) => e.contentBlockDelta!.delta!.reasoningContent!);
    expect(first.slice(0, -1).map((d) => d.text).join('')).toBe(reasoning);
    expect(first.at(-1)!.signature).toMatch(/=$/);
    const second = events.filter((e) => e.contentBlockDelta?.contentBlockIndex === 1).map((e) => e.contentBlockDelta!.delta!.text);
    expect(second.join('')).toBe(visible);
    expect(events.filter((e) => e.contentBlockStop).map((e) => e.contentBlockStop!.contentBlockIndex)).toEqual([0, 1]);
  });
});

describe('prompt cache', () => {
  beforeEach(() => sim.resetCache());

  // System 400 chars = 100 tokens with a cachePoint after it; each turn moves a cachePoint to the
  // end of the stored history, as the gateway's session path does.
  const system = [{ text: 'S'.repeat(400) }, { cachePoint: { type: 'default' as const } }];
  const u = ['a'.repeat(80), 'c'.repeat(40), 'e'.repeat(20)]; // 20, 10, 5 tokens
  const a = ['b'.repeat(120), 'd'.repeat(160)]; // 30, 40 tokens
  const withCachePoint = (m: Message): Message => ({ ...m, content: [...m.content!, { cachePoint: { type: 'default' } }] });
  const turn = (n: number): Message[] => {
    const history: Message[] = [];
    for (let i = 0; i < n; i++) history.push(user(u[i]!), assistant(a[i]!));
    if (history.length > 0) history[history.length - 1] = withCachePoint(history.at(-1)!);
    return [...history, user(u[n]!)];
  };

  it.each(['http1', 'http2'] as const)('reads a growing prefix from the second turn on (%s)', async (transport) => {
    const bedrock = client(sim, transport);
    const usages = [];
    for (let n = 0; n < 3; n++) {
      const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, system, messages: turn(n) }));
      usages.push(res.usage!);
    }
    bedrock.destroy();
    expect(usages.map((x) => [x.cacheReadInputTokens, x.cacheWriteInputTokens, x.inputTokens])).toEqual([
      [0, 100, 3 + 20],
      [100, 3 + 20 + 3 + 30, 3 + 10],
      [156, 3 + 10 + 3 + 40, 3 + 5],
    ]);
    for (const x of usages) expect(x.totalTokens).toBe(x.inputTokens! + x.outputTokens! + x.cacheReadInputTokens! + x.cacheWriteInputTokens!);
  });

  it('reports cache usage in the stream metadata', async () => {
    const bedrock = client(sim, 'http2');
    await bedrock.send(new ConverseCommand({ modelId: SONNET, system, messages: turn(0) }));
    const res = await bedrock.send(new ConverseStreamCommand({ modelId: SONNET, system, messages: turn(1) }));
    let usage;
    for await (const event of res.stream!) if (event.metadata) usage = event.metadata.usage;
    bedrock.destroy();
    expect(usage).toMatchObject({ cacheReadInputTokens: 100, cacheWriteInputTokens: 56, inputTokens: 13 });
  });

  it('keeps entries per model', async () => {
    const bedrock = client(sim, 'http1');
    await bedrock.send(new ConverseCommand({ modelId: SONNET, system, messages: turn(0) }));
    const other = await bedrock.send(new ConverseCommand({ modelId: HAIKU, system, messages: turn(0) }));
    bedrock.destroy();
    expect(other.usage).toMatchObject({ cacheReadInputTokens: 0, cacheWriteInputTokens: 100 });
  });

  it('forgets entries after the TTL', async () => {
    // Coarse on purpose (a loaded CI box is slow); cache.test.ts checks the TTL to the millisecond.
    const short = await startSim({ cacheTtlMs: 1000 });
    const bedrock = client(short, 'http1');
    await bedrock.send(new ConverseCommand({ modelId: SONNET, system, messages: turn(0) }));
    const warm = await bedrock.send(new ConverseCommand({ modelId: SONNET, system, messages: turn(0) }));
    await new Promise((r) => setTimeout(r, 1200));
    const cold = await bedrock.send(new ConverseCommand({ modelId: SONNET, system, messages: turn(0) }));
    bedrock.destroy();
    await short.close();
    expect(warm.usage).toMatchObject({ cacheReadInputTokens: 100, cacheWriteInputTokens: 0 });
    expect(cold.usage).toMatchObject({ cacheReadInputTokens: 0, cacheWriteInputTokens: 100 });
  });

  it('caches nothing below cacheMinTokens, but still answers', async () => {
    const strict = await startSim({ cacheMinTokens: 1024 });
    const bedrock = client(strict, 'http1');
    const first = await bedrock.send(new ConverseCommand({ modelId: SONNET, system, messages: turn(0) }));
    const second = await bedrock.send(new ConverseCommand({ modelId: SONNET, system, messages: turn(0) }));
    const big = [{ text: 'S'.repeat(4096) }, { cachePoint: { type: 'default' as const } }];
    const bigFirst = await bedrock.send(new ConverseCommand({ modelId: SONNET, system: big, messages: turn(0) }));
    const bigSecond = await bedrock.send(new ConverseCommand({ modelId: SONNET, system: big, messages: turn(0) }));
    bedrock.destroy();
    await strict.close();
    for (const res of [first, second]) expect(res.usage).toMatchObject({ inputTokens: 123, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 });
    expect(bigFirst.usage).toMatchObject({ inputTokens: 23, cacheReadInputTokens: 0, cacheWriteInputTokens: 1024 });
    expect(bigSecond.usage).toMatchObject({ inputTokens: 23, cacheReadInputTokens: 1024, cacheWriteInputTokens: 0 });
  });

  it('reports no cache fields without a cachePoint', async () => {
    const bedrock = client(sim, 'http1');
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, system: [{ text: 'S'.repeat(400) }], messages: turn(0) }));
    bedrock.destroy();
    expect(res.usage).not.toHaveProperty('cacheReadInputTokens');
    expect(res.usage).not.toHaveProperty('cacheWriteInputTokens');
    expect(res.usage?.inputTokens).toBe(123);
  });
});
