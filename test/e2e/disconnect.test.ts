// A client that goes away mid-stream: the gateway aborts the upstream call at once (both
// backends), meters the request, and a stateful turn is not committed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY, startStack, type Stack } from '../helpers/stack.js';
import type { MeterRecordInput } from '../../src/metering/meter.js';

let stack: Stack;
const metered: MeterRecordInput[] = [];
beforeAll(async () => {
  stack = await startStack({ bedrockStreamDelayMs: 40 });
  const record = stack.gateway.meter.record.bind(stack.gateway.meter);
  stack.gateway.meter.record = (input) => (metered.push(input), record(input));
});
afterAll(() => stack.close());

async function startStream(body: Record<string, unknown>, headers: Record<string, string> = {}, path = '/v1/chat/completions') {
  const controller = new AbortController();
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    signal: controller.signal,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ ...body, stream: true }),
  });
  const reader = res.body!.getReader();
  await reader.read();
  return () => controller.abort();
}

// The 100 ms criterion is about the gateway, not about a test machine busy with other suites: a
// timing test gets two more tries before it counts as failed.
const timing = { retry: 2 };

describe('client disconnect', () => {
  it('Bedrock: the upstream stream is closed within 100 ms and the turn is metered, not committed', timing, async () => {
    const before = metered.length;
    const session = `gone-${before}`;
    const disconnect = await startStream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'a long answer please '.repeat(20) }] }, { 'x-session-id': session });
    const upstream = stack.bedrock.requests.at(-1)!;
    expect(upstream.completed).toBeUndefined();
    const t0 = performance.now();
    disconnect();
    await expect.poll(() => upstream.completed, { timeout: 2000, interval: 5 }).toBe(false);
    const elapsed = performance.now() - t0;
    expect(elapsed, `upstream closed after ${elapsed.toFixed(1)} ms`).toBeLessThan(100);
    await expect.poll(() => metered.length).toBeGreaterThan(before);
    expect(metered.at(-1)).toMatchObject({ status: 499, errorType: 'client_closed', errorSource: 'client', backend: 'bedrock' });
    // Bedrock reports usage only at the end: the tokens are the gateway's estimate, and say so.
    expect(metered.at(-1)).toMatchObject({ usageEstimated: true });
    expect(metered.at(-1)!.usage!.input).toBeGreaterThan(100);
    expect(metered.at(-1)!.usage!.output).toBeGreaterThan(0);
    const stored = await fetch(`${stack.url}/v1/sessions/${session}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(stored.status).toBe(404);
  });

  it('Responses API on Bedrock: the stream is stopped and metered as the client leaving, with an estimated usage', timing, async () => {
    const before = metered.length;
    const disconnect = await startStream({ model: 'gpt-4o', input: 'a long answer please '.repeat(20) }, { 'x-session-id': `gone-responses-${before}` }, '/v1/responses');
    const upstream = stack.bedrock.requests.at(-1)!;
    disconnect();
    await expect.poll(() => upstream.completed, { timeout: 2000, interval: 5 }).toBe(false);
    await expect.poll(() => metered.length).toBeGreaterThan(before);
    expect(metered.at(-1)).toMatchObject({ operation: 'responses', status: 499, errorType: 'client_closed', errorSource: 'client', backend: 'bedrock', usageEstimated: true });
    expect(metered.at(-1)!.usage!.input).toBeGreaterThan(100);
  });

  it('Azure: the upstream request is closed within 100 ms', timing, async () => {
    const before = metered.length;
    stack.azure.faults.push({ delayBetweenChunksMs: 40 });
    const disconnect = await startStream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'slow please' }] });
    const upstream = stack.azure.requests.at(-1)!;
    const t0 = performance.now();
    disconnect();
    await expect.poll(() => upstream.outcome, { timeout: 2000, interval: 5 }).toBe('closed-early');
    const elapsed = performance.now() - t0;
    expect(elapsed, `upstream closed after ${elapsed.toFixed(1)} ms`).toBeLessThan(100);
    await expect.poll(() => metered.length).toBeGreaterThan(before);
    expect(metered.at(-1)).toMatchObject({ status: 499, backend: 'azure' });
  });
});
