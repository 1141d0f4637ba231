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
  it('a client that leaves during a non-streamed call is a 499 at info level, whatever error the SDK threw', async () => {
    const { listen } = await import('../../src/server/serve.js');
    const { lines, logger } = capture();
    const g = fakeGateway(undefined, { logger });
    // openai-node rejects an aborted call with APIUserAbortError, not with the signal's reason.
    g.stateless.script = { hang: true, abortError: Object.assign(new Error('Request was aborted.'), { name: 'APIUserAbortError' }) };
    const server = await listen(g.app, { host: '127.0.0.1', port: 0 });
    const controller = new AbortController();
    const pending = fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    }).catch(() => undefined);
    await expect.poll(() => g.stateless.calls.length).toBe(1);
    controller.abort();
    await pending;
    await expect.poll(() => g.meter.records.length).toBe(1);
    expect(g.meter.records[0]).toMatchObject({ status: 499, errorSource: 'client' });
    await expect.poll(() => lines.map((l) => JSON.parse(l)).find((r) => r.msg === 'request')?.status).toBe(499);
    await server.drain(0);
    expect(lines.map((l) => JSON.parse(l)).filter((r) => r.level >= 50)).toEqual([]);
  });
});
