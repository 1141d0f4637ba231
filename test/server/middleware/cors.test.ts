import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { BASE_CONFIG, fakeGateway, TEST_KEY } from '../../helpers/app.js';

const ORIGIN = 'https://app.example.com';
const withCors = (cors: string) => BASE_CONFIG.replace('server: { bodyLimitBytes: 2048 }', `server: { bodyLimitBytes: 2048, cors: ${cors} }`);
const hello = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
const preflight = (origin = ORIGIN) => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-stainless-os' },
});

describe('CORS (server.cors)', () => {
  it('answers a preflight without a key and allows the headers the SDKs send', async () => {
    const { app } = fakeGateway(withCors(`{ origins: ["${ORIGIN}"], maxAgeSeconds: 300 }`));
    const res = await app.request('/v1/chat/completions', preflight());
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization,content-type,x-stainless-os');
    expect(res.headers.get('access-control-max-age')).toBe('300');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('does not allow an origin that is not listed', async () => {
    const { app } = fakeGateway(withCors(`{ origins: ["${ORIGIN}"] }`));
    const res = await app.request('/v1/chat/completions', preflight('https://evil.example.net'));
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('marks answers, streams and errors alike, and exposes the gateway headers', async () => {
    const { app } = fakeGateway(withCors('{ origins: ["*"] }'));
    const headers = { origin: ORIGIN, authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
    const ok = await app.request('/v1/chat/completions', { method: 'POST', headers, body: hello });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    expect(ok.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect(ok.headers.get('x-stateroute-route')).toBeTruthy();

    const stream = await app.request('/v1/chat/completions', { method: 'POST', headers, body: hello.replace('}]}', '}],"stream":true}') });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    expect(stream.headers.get('access-control-allow-origin')).toBe('*');
    expect(await stream.text()).toContain('data: [DONE]');

    // A browser can only read an error whose response carries the CORS headers.
    const denied = await app.request('/v1/chat/completions', { method: 'POST', headers: { ...headers, authorization: 'Bearer sk-wrong-0123456789abcdef' }, body: hello });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('*');
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });

  it('is off without server.cors: no CORS headers, and a preflight is not allowed', async () => {
    const { app } = fakeGateway();
    const res = await app.request('/v1/chat/completions', preflight());
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.status).toBeGreaterThanOrEqual(400);
  });

  it('refuses credentials with "*" and an origin with a path, at load', () => {
    expect(() => parseConfig(withCors('{ origins: ["*"], credentials: true }'), 'c.yaml', {})).toThrow(/credentials/);
    expect(() => parseConfig(withCors('{ origins: ["https://a.example.com/app"] }'), 'c.yaml', {})).toThrow(/origin/);
  });
});
