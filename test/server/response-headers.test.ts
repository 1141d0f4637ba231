// The gateway's own response headers (request id, route, rule) reach the client on every kind of
// response, once each, over real HTTP (where @hono/node-server writes a plain-object head) and
// through app.request(); a header a handler sets itself is not overwritten.
import { request } from 'node:http';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { AppEnv } from '../../src/server/context.js';
import { requestId } from '../../src/server/middleware/request-id.js';
import { respond, setResponseHeader } from '../../src/server/response-headers.js';
import { listen, type Listening } from '../../src/server/serve.js';
import { fakeGateway, TEST_KEY } from '../helpers/app.js';

let server: Listening | undefined;
afterEach(async () => {
  await server?.drain(0);
  server = undefined;
});

/** Status and raw header lines (names lower-cased) of one request. */
function raw(url: string, body?: object, headers: Record<string, string> = {}): Promise<{ status: number; lines: [string, string][] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: body ? 'POST' : 'GET', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', ...headers } }, (res) => {
      const lines: [string, string][] = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, lines }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}
const all = (lines: [string, string][], name: string) => lines.filter(([n]) => n === name).map(([, v]) => v);

describe('gateway response headers over HTTP', () => {
  it('JSON, stream and error responses each carry the request id, route and rule once', async () => {
    const g = fakeGateway();
    server = await listen(g.app, { host: '127.0.0.1', port: 0 });
    const chat = `${server.url}/v1/chat/completions`;
    const cases = [
      await raw(chat, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'mine-1' }),
      await raw(chat, { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'mine-2' }),
    ];
    for (const [i, { status, lines }] of cases.entries()) {
      expect(status).toBe(200);
      expect(all(lines, 'x-request-id')).toEqual([`mine-${i + 1}`]);
      expect(all(lines, 'x-stateroute-route')).toHaveLength(1);
      expect(all(lines, 'x-stateroute-rule')).toHaveLength(1);
      expect(all(lines, 'content-type')).toHaveLength(1);
    }
    expect(all(cases[0]!.lines, 'content-type')[0]).toMatch(/^application\/json/);
    expect(all(cases[1]!.lines, 'content-type')[0]).toMatch(/^text\/event-stream/);
    // An error built by Hono's error handler (not by respond) still gets the request id, once.
    const unauthorized = await raw(chat, { model: 'gpt-4o', messages: [] }, { authorization: 'Bearer wrong-wrong-wrong', 'x-request-id': 'mine-3' });
    expect(unauthorized.status).toBe(401);
    expect(all(unauthorized.lines, 'x-request-id')).toEqual(['mine-3']);
  });
});

describe('respond and applyResponseHeaders', () => {
  const app = () => {
    const a = new Hono<AppEnv>();
    a.use('*', requestId({ logger: createLogger({ level: 'silent' }) }));
    a.use('*', async (c, next) => {
      setResponseHeader(c, 'x-stateroute-route', 'r');
      await next();
    });
    a.get('/respond', (c) => respond(c, '{}', 201, { 'x-stateroute-route': 'upstream-loses' }, { 'content-type': 'application/json', 'x-stateroute-route': 'handler-wins' }));
    a.get('/hono', (c) => {
      c.header('x-stateroute-route', 'set-by-handler');
      return c.json({ ok: true });
    });
    a.get('/throws', () => {
      throw new Error('boom');
    });
    return a;
  };

  it('a respond() response has the gateway headers, and the ones it is given win', async () => {
    const res = await app().request('/respond', { headers: { 'x-request-id': 'id-1' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('id-1');
    expect(res.headers.get('x-stateroute-route')).toBe('handler-wins');
  });

  it('any other response gets them added, without overwriting what the handler set', async () => {
    const hono = await app().request('/hono', { headers: { 'x-request-id': 'id-2' } });
    expect(hono.headers.get('x-request-id')).toBe('id-2');
    expect(hono.headers.get('x-stateroute-route')).toBe('set-by-handler');
    const failed = await app().request('/throws', { headers: { 'x-request-id': 'id-3' } });
    expect(failed.status).toBe(500);
    expect(failed.headers.get('x-request-id')).toBe('id-3');
    expect(failed.headers.get('x-stateroute-route')).toBe('r');
  });
});
