import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { fakeGateway, TEST_KEY } from '../helpers/app.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
  return { lines, logger: createLogger({ level: 'info', destination: destination as never }) };
}

describe('request logging', () => {
  it('one JSON line per request with its id, status and routing decision, and no key', async () => {
    const { lines, logger } = capture();
    const { app } = fakeGateway(undefined, { logger });
    const res = await app.request('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'x-request-id': 'req-log-1' }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }) });
    expect(res.status).toBe(200);
    await app.request('/v1/models', { headers: { authorization: 'Bearer sk-wrong-key-but-long-enough' } });
    const records = lines.map((l) => JSON.parse(l));
    const request = records.find((r) => r.msg === 'request' && r.requestId === 'req-log-1');
    expect(request).toMatchObject({ method: 'POST', path: '/v1/chat/completions', status: 200, tenant: 'acme', route: expect.any(String), rule: expect.any(String) });
    expect(records.some((r) => r.msg === 'request' && r.status === 401)).toBe(true);
    const all = lines.join('');
    expect(all).not.toContain(TEST_KEY);
    expect(all).not.toContain('sk-wrong-key-but-long-enough');
  });
});

describe('client disconnect logging', () => {
  it('a client that leaves during a non-streamed call is a 499 at info level, not an error', async () => {
    const { lines, logger } = capture();
    const { startStack, KEY } = await import('../helpers/stack.js');
    const stack = await startStack({ logger });
    const metered: unknown[] = [];
    const record = stack.gateway.meter.record.bind(stack.gateway.meter);
    stack.gateway.meter.record = (input) => (metered.push(input), record(input));
    stack.azure.faults.push({ delayBeforeHeadersMs: 2000 });
    const controller = new AbortController();
    const pending = fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await pending;
    await expect.poll(() => metered.length).toBe(1);
    expect(metered[0]).toMatchObject({ status: 499, errorSource: 'client' });
    await new Promise((r) => setTimeout(r, 50));
    await stack.close();
    const records = lines.map((l) => JSON.parse(l));
    expect(records.filter((r) => r.level >= 50)).toEqual([]);
  });
});
