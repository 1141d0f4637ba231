import { describe, expect, it } from 'vitest';
import { scanJson } from '../../src/server/middleware/json-body.js';
import { BASE_CONFIG, fakeGateway, TEST_KEY } from '../helpers/app.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const nestingExceeds = (bytes: Uint8Array, max: number) => scanJson(bytes, max) === -1;
const auth = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };

describe('input hardening', () => {
  it('measures nesting outside strings only', () => {
    expect(nestingExceeds(utf8('[[[]]]'), 3)).toBe(false);
    expect(nestingExceeds(utf8('[[[[]]]]'), 3)).toBe(true);
    expect(nestingExceeds(utf8('{"a":"[[[[[[[[[["}'), 2)).toBe(false);
    expect(nestingExceeds(utf8('{"a":"\\"[[[[","b":[[[]]]}'), 3)).toBe(true);
  });

  it('reads the UTF-8 bytes as the text: characters of several bytes, escapes and quotes in strings', () => {
    // "é" is 0xc3 0xa9, "［" 0xef 0xbc 0xbb, "𝄞" four bytes: none is a bracket, quote or backslash.
    expect(nestingExceeds(utf8('{"é［𝄞":"［［［［","b":[["\\u005b\\\\",{"c":"]]]]"}]]}'), 4)).toBe(false);
    expect(nestingExceeds(utf8('{"é［𝄞":"［［［［","b":[["\\u005b\\\\",{"c":[1]}]]}'), 4)).toBe(true);
  });

  it('counts the keys written plainly at the top level, a repeated one each time, in the same pass', () => {
    expect(scanJson(utf8('{}'), 3)).toBe(0);
    expect(scanJson(utf8('{ "a" : 1 ,\n "b":{"c":2,"d":[3,"e,f",{"g":1}]}, "h":"i,\\"j\\":k" }'), 5)).toBe(3);
    // A repeated key counts each time; a name with an escape in it not at all (json-body.ts).
    expect(scanJson(utf8('{"a":1,"a":2,"x\\"y":3,"\\u0062":4}'), 3)).toBe(2);
    expect(scanJson(utf8('{"a":[[[[]]]]}'), 3)).toBe(-1);
  });

  it('400 for a body nested deeper than the limit, before parsing it', async () => {
    const { app, stateless } = fakeGateway(BASE_CONFIG.replace('server: { bodyLimitBytes: 2048 }', 'server: { bodyLimitBytes: 4194304 }'));
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const res = await app.request('/v1/chat/completions', { method: 'POST', headers: auth, body: `{"model":"gpt-4o","messages":[{"role":"user","content":${deep}}]}` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('json_too_deep');
    expect(stateless.calls).toHaveLength(0);
  });

  it('400 for more messages than allowed', async () => {
    const { app } = fakeGateway(BASE_CONFIG.replace('server: { bodyLimitBytes: 2048 }', 'server: { maxMessages: 3 }'));
    const messages = Array.from({ length: 4 }, () => ({ role: 'user', content: 'x' }));
    const res = await app.request('/v1/chat/completions', { method: 'POST', headers: auth, body: JSON.stringify({ model: 'gpt-4o', messages }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({ param: 'messages', code: 'array_above_max_length' });
  });

  it('400 for a body that is not UTF-8', async () => {
    const { app } = fakeGateway();
    const bytes = Buffer.concat([Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]);
    const res = await app.request('/v1/chat/completions', { method: 'POST', headers: auth, body: bytes });
    expect(res.status).toBe(400);
  });

  it('/metrics needs the admin key when one is configured', async () => {
    const { app } = fakeGateway(`${BASE_CONFIG}\nadmin: { key: admin-key-0123456789 }\n`);
    expect((await app.request('/metrics')).status).toBe(401);
    expect((await app.request('/metrics', { headers: { authorization: `Bearer ${TEST_KEY}` } })).status).toBe(401);
    const ok = await app.request('/metrics', { headers: { authorization: 'Bearer admin-key-0123456789' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('stateroute_requests_total');
  });

  it('/metrics is not served on the main port when an admin listener is configured', async () => {
    const { app } = fakeGateway(`${BASE_CONFIG}\nadmin: { listen: { port: 0 } }\n`);
    expect((await app.request('/metrics')).status).toBe(404);
  });
});
