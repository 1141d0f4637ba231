// `transport: sdk`: chat through the openai SDK's AzureOpenAI client instead of the raw
// pass-through must give the same results, usage and errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { startAzureSimulator, type AzureSimulator } from '../../../src/simulators/azure/index.js';
import { API_KEY, azure, chatCall, ctx, drain } from './helpers.js';

let sim: AzureSimulator;
const deployments = { 'gpt-4o': 'chat' };
beforeAll(async () => {
  sim = await startAzureSimulator({ apiKey: API_KEY, deployments: { chat: 'gpt-4o-2024-08-06' } });
});
afterAll(() => sim.close());

describe.each(['sdk', 'passthrough'] as const)('azure chat, transport %s', (transport) => {
  const backend = () => azure({ endpoint: sim.url, deployments, transport });

  it('JSON with usage', async () => {
    const result = await backend().chat(chatCall('Hello there'), ctx());
    if (result.type !== 'json') throw new Error('expected json');
    expect(result.usage).toEqual({ input: 10, output: 4, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
    expect(result.model).toBe('gpt-4o-2024-08-06');
    expect(sim.requests.at(-1)!.headers['api-key']).toBe(API_KEY);
  });

  it('stream: the usage chunk only when asked, usage always known', async () => {
    for (const clientUsage of [false, true]) {
      const result = await backend().chat(chatCall('Hello there', { stream: true, clientUsage }), ctx());
      if (result.type !== 'stream') throw new Error('expected stream');
      const { chunks, error } = await drain(result);
      expect(error).toBeUndefined();
      expect(chunks.some((c) => c.json.includes('"usage":{'))).toBe(clientUsage);
      expect(result.usage()).toEqual({ input: 10, output: 4, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
    }
  });

  it('429 keeps status and retry headers', async () => {
    sim.faults.push({ status: 429, headers: { 'retry-after': '7' }, body: { error: { code: '429', message: 'slow down' } } });
    const err = await backend().chat(chatCall('x'), ctx()).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect([err.status, err.headers['retry-after']]).toEqual([429, '7']);
  });

  it('a cut stream throws after the chunks that arrived', async () => {
    sim.faults.push({ cutAfterChunks: 4 });
    const result = await backend().chat(chatCall('Tell me a long story please', { stream: true }), ctx());
    if (result.type !== 'stream') throw new Error('expected stream');
    const { chunks, error } = await drain(result);
    expect(chunks.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(GatewayError);
  });
});
