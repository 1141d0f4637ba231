// lazyChild: the child logger is made on first use, and logs exactly as base.child() would.
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, lazyChild } from '../src/logger.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({ write: (chunk, _e, cb) => (lines.push(JSON.parse(String(chunk))), cb()) });
  return { lines, logger: createLogger({ level, destination: destination as never }) };
}

describe('lazyChild', () => {
  it('logs with its bindings, the base bindings and redaction, like base.child()', () => {
    const { lines, logger } = capture('info');
    const lazy = lazyChild(logger, { requestId: 'req_1' });
    lazy.info({ headers: { authorization: 'Bearer sk-secret' } }, 'hello');
    lazy.child({ backend: 'azure' }).warn('nested');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ service: 'stateroute', requestId: 'req_1', msg: 'hello', headers: { authorization: '[REDACTED]' } });
    expect(lines[1]).toMatchObject({ requestId: 'req_1', backend: 'azure', msg: 'nested', level: 40 });
    expect(lazy.bindings()).toEqual(logger.child({ requestId: 'req_1' }).bindings());
    expect(lazy.isLevelEnabled('debug')).toBe(false);
  });

  it('never makes the child when nothing is logged at an enabled level', () => {
    const { lines, logger } = capture('warn');
    const child = vi.spyOn(logger, 'child');
    const lazy = lazyChild(logger, { requestId: 'req_2' });
    lazy.info('dropped');
    lazy.debug('dropped');
    expect(child).not.toHaveBeenCalled();
    lazy.error('kept');
    lazy.error('kept again');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => l.msg)).toEqual(['kept', 'kept again']);
  });
});

// Redaction: a secret is hidden wherever it sits in what a log call is handed, and nothing else is.
describe('redaction', () => {
  const S = 'sk-SECRET-0123456789';
  const logged = (line: unknown) => JSON.stringify(line);

  it('hides a secret nested five levels deep, and in the shape a config carries it', () => {
    const { lines, logger } = capture('info');
    logger.error({ a: { b: { c: { d: { e: { apiKey: S } } } } } }, 'deep');
    logger.error({ err: new Error('x'), config: { backends: { azure: { apiKey: S }, redis: { url: 'redis://h', keyPrefix: 'sr:' } } } }, 'config');
    expect(lines[0]).toMatchObject({ a: { b: { c: { d: { e: { apiKey: '[REDACTED]' } } } } } });
    expect(lines[1]).toMatchObject({ config: { backends: { azure: { apiKey: '[REDACTED]' }, redis: { keyPrefix: 'sr:' } } } });
    expect(logged(lines)).not.toContain(S);
  });

  it('hides secrets inside arrays, arrays of arrays included', () => {
    const { lines, logger } = capture('info');
    logger.warn({ auth: { keys: [{ name: 'a', tenant: 'acme', key: S }, { name: 'b', tenant: 'globex', sha256: 'ab12' }] }, pools: [[{ password: S }]] }, 'arrays');
    expect(lines[0]).toMatchObject({ auth: { keys: [{ name: 'a', tenant: 'acme', key: '[REDACTED]' }, { tenant: 'globex', sha256: 'ab12' }] }, pools: [[{ password: '[REDACTED]' }]] });
    expect(logged(lines)).not.toContain(S);
  });

  it('keeps a parsed "__proto__" key a key when it copies the object around it', () => {
    const { lines, logger } = capture('info');
    logger.warn({ body: JSON.parse(`{"__proto__": {"apiKey": "${S}"}, "password": "${S}"}`) }, 'hostile body');
    expect(logged(lines[0])).toContain('"body":{"__proto__":{"apiKey":"[REDACTED]"},"password":"[REDACTED]"}');
  });

  it('matches header names whatever their case and separator', () => {
    const { lines, logger } = capture('info');
    const headers = {
      Authorization: `Bearer ${S}`, 'Proxy-Authorization': `Basic ${S}`, 'Api-Key': S, 'x-api-key': S, 'X-Amz-Security-Token': S,
      Cookie: `sid=${S}`, 'set-cookie': [`sid=${S}; HttpOnly`], 'Ocp-Apim-Subscription-Key': S, 'x-request-id': 'req_7', 'Content-Type': 'application/json',
    };
    logger.info({ request: { headers } }, 'headers');
    const shown = (lines[0] as { request: { headers: Record<string, unknown> } }).request.headers;
    expect(shown).toEqual({ ...Object.fromEntries(Object.keys(headers).map((k) => [k, '[REDACTED]'])), 'x-request-id': 'req_7', 'Content-Type': 'application/json' });
    // A raw Node request, which pino maps to { req } itself.
    logger.info({ method: 'GET', url: '/v1/models', headers: { 'x-api-key': S, host: 'gw' }, socket: {} }, 'raw request');
    expect(lines[1]).toMatchObject({ req: { method: 'GET', url: '/v1/models', headers: { 'x-api-key': '[REDACTED]', host: 'gw' } } });
    expect(JSON.stringify(lines)).not.toContain(S);
  });

  it('shows a Headers instance as its entries, secret ones hidden', () => {
    const { lines, logger } = capture('info');
    logger.info({ response: { headers: new Headers({ authorization: `Bearer ${S}`, 'x-request-id': 'req_8', 'Set-Cookie': `a=${S}` }) } }, 'fetch headers');
    expect(lines[0]).toMatchObject({ response: { headers: { authorization: '[REDACTED]', 'x-request-id': 'req_8', 'set-cookie': '[REDACTED]' } } });
    expect(logged(lines)).not.toContain(S);
  });

  it('keeps an error’s type, message and stack, and hides secrets in its own props, its cause’s and nested errors’', () => {
    const { lines, logger } = capture('info');
    const cause = Object.assign(new Error('socket hang up'), { headers: { 'api-key': S } });
    const err = Object.assign(new TypeError('upstream refused', { cause }), { status: 401, config: { apiKey: S }, headers: { Authorization: `Bearer ${S}` } });
    logger.error({ err }, 'with err');
    logger.error(err);
    logger.error({ result: { error: err } }, 'an error deeper down');
    for (const line of lines.slice(0, 2))
      expect(line).toMatchObject({ err: { type: 'TypeError', message: expect.stringContaining('upstream refused'), stack: expect.stringContaining('TypeError'), status: 401, config: { apiKey: '[REDACTED]' }, headers: { Authorization: '[REDACTED]' } } });
    expect(lines[1]).toMatchObject({ msg: 'upstream refused' });
    expect(lines[2]).toMatchObject({ result: { error: { type: 'TypeError', message: expect.stringContaining('upstream refused'), config: { apiKey: '[REDACTED]' } } } });
    expect(logged(lines)).not.toContain(S);
  });

  it('hides AWS credentials but keeps the access key id an operator looks up', () => {
    const { lines, logger } = capture('info');
    logger.error({ client: { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: S, sessionToken: `${S}-session` } } }, 'aws');
    expect(lines[0]).toMatchObject({ client: { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: '[REDACTED]', sessionToken: '[REDACTED]' } } });
  });

  it('masks the password in a URL and secret query parameters, in fields, URL objects, messages and interpolations', () => {
    const { lines, logger } = capture('info');
    logger.error(
      { store: { url: `redis://user:${S}@redis:6379/0`, bare: `redis://:${S}@redis`, ledger: new URL(`postgres://sr:${S}@db:5432/ledger`), clone: `https://${S}@git.example/x.git`, azure: `https://x.example/v1?api-version=2024-10-21&api-key=${S}` } },
      `cannot reach rediss://app:${S}@cache:6380`,
    );
    logger.error(new Error(`connect failed: postgres://sr:${S}@db/ledger`));
    logger.info('dialling %s', `redis://u:${S}@h`);
    expect(lines[0]).toMatchObject({
      store: { url: 'redis://user:[REDACTED]@redis:6379/0', bare: 'redis://:[REDACTED]@redis', ledger: 'postgres://sr:[REDACTED]@db:5432/ledger', clone: 'https://[REDACTED]@git.example/x.git', azure: 'https://x.example/v1?api-version=2024-10-21&api-key=[REDACTED]' },
      msg: 'cannot reach rediss://app:[REDACTED]@cache:6380',
    });
    expect(lines[1]).toMatchObject({ msg: 'connect failed: postgres://sr:[REDACTED]@db/ledger' });
    expect(lines[2]).toMatchObject({ msg: 'dialling redis://u:[REDACTED]@h' });
    expect(logged(lines)).not.toContain(S);
  });

  it('masks credentials after Bearer and Basic in free text, and leaves the word "basic" alone', () => {
    const { lines, logger } = capture('info');
    const basic = Buffer.from(`user:${S}`).toString('base64');
    logger.warn({ data: `curl -H "Authorization: Bearer ${S}"`, upstream: `auth failed for BASIC ${basic}` }, `retrying with bearer ${S} now`);
    logger.info('basic usage of a very long sentence, twice: Basic usage');
    expect(lines[0]).toMatchObject({ data: 'curl -H "Authorization: Bearer [REDACTED]"', upstream: 'auth failed for BASIC [REDACTED]', msg: 'retrying with bearer [REDACTED] now' });
    expect(lines[1]!.msg).toBe('basic usage of a very long sentence, twice: Basic usage');
    expect(logged(lines)).not.toContain(S);
    expect(logged(lines)).not.toContain(basic);
  });

  it('hides the value after a secret name in a raw header list, strings or Buffers, and keeps the rest', () => {
    const { lines, logger } = capture('info');
    logger.warn({ rawHeaders: ['Host', 'gw', 'Authorization', `Token ${S}`, 'api-key', S, 'x-request-id', 'req_1'] }, 'node raw headers');
    logger.warn({ rawHeaders: [Buffer.from('x-api-key'), Buffer.from(S), Buffer.from('etag'), Buffer.from('"1"')] }, 'undici raw headers');
    logger.warn({ settings: new Map([['apiKey', S]]) }, 'a map');
    expect(lines[0]).toMatchObject({ rawHeaders: ['Host', 'gw', 'Authorization', '[REDACTED]', 'api-key', '[REDACTED]', 'x-request-id', 'req_1'] });
    expect((lines[1]!.rawHeaders as unknown[])[1]).toBe('[REDACTED]');
    expect(lines[2]).toMatchObject({ settings: {} });
    expect(logged(lines)).not.toContain(S);
    expect(logged(lines)).not.toContain(JSON.stringify([...Buffer.from(S)]).slice(1, -1));
  });

  it('hides secrets in an object interpolated into the message', () => {
    const { lines, logger } = capture('info');
    logger.info('config %j', { backends: { azure: { apiKey: S } } });
    expect(lines[0]!.msg).toContain('[REDACTED]');
    expect(logged(lines)).not.toContain(S);
  });

  it('hides secrets in child bindings, a lazy child’s and a grandchild’s', () => {
    const { lines, logger } = capture('info');
    logger.child({ backend: 'azure', config: { apiKey: S } }).child({ store: { url: `redis://u:${S}@h` } }).info('child');
    lazyChild(logger, { requestId: 'req_9', headers: { Authorization: `Bearer ${S}` } }).child({ upstream: { 'x-api-key': S } }).warn('lazy');
    expect(lines[0]).toMatchObject({ backend: 'azure', config: { apiKey: '[REDACTED]' }, store: { url: 'redis://u:[REDACTED]@h' } });
    expect(lines[1]).toMatchObject({ requestId: 'req_9', headers: { Authorization: '[REDACTED]' }, upstream: { 'x-api-key': '[REDACTED]' } });
    const later = logger.child({ worker: 1 });
    later.setBindings({ session: { token: S } });
    later.info('set bindings');
    expect(lines[2]).toMatchObject({ worker: 1, session: { token: '[REDACTED]' } });
    expect(logged(lines)).not.toContain(S);
  });

  it('never changes the caller’s object', () => {
    const { lines, logger } = capture('info');
    const err = Object.assign(new Error('boom'), { config: { apiKey: S } });
    const obj = { request: { headers: { authorization: `Bearer ${S}` }, url: `redis://u:${S}@h` }, list: [{ password: S }], err };
    const before = JSON.stringify(obj);
    logger.error(obj, 'mutation');
    logger.child(obj).info('as bindings');
    expect(JSON.stringify(obj)).toBe(before);
    expect(obj.request.headers.authorization).toBe(`Bearer ${S}`);
    expect(err.config.apiKey).toBe(S);
    expect(Object.getOwnPropertySymbols(err)).toEqual([]);
    expect(logged(lines)).not.toContain(S);
  });

  it('ends on a cycle, and a cycle through a redacted object does not bring the secret back', () => {
    const { lines, logger } = capture('info');
    const a: Record<string, unknown> = { name: 'a', b: { c: { d: { apiKey: S } } } };
    ((a.b as Record<string, Record<string, unknown>>).c!.d as Record<string, unknown>).up = a;
    logger.error({ a }, 'cycle');
    expect(lines[0]).toMatchObject({ a: { name: 'a', b: { c: { d: { apiKey: '[REDACTED]', up: '[Circular]' } } } } });
    expect(logged(lines)).not.toContain(S);
  });

  it('stops at a depth bound: what lies deeper is shown as a marker, never unwalked', () => {
    const { lines, logger } = capture('info');
    let deep: Record<string, unknown> = { apiKey: S };
    for (let i = 0; i < 40; i++) deep = { next: deep };
    logger.error({ deep }, 'deep');
    expect(logged(lines)).toContain('[Object]');
    expect(logged(lines)).not.toContain(S);
  });

  it('keeps what an operator needs: tenant, model, path, keyPrefix, tokens, codes', () => {
    const { lines, logger } = capture('info');
    const fields = {
      tenant: 'acme', model: 'gpt-4o', path: '/v1/chat/completions', code: 'rate_limit_exceeded', rule: 'sessions-to-bedrock', method: 'POST',
      sessions: { store: { type: 'redis', url: 'redis://redis:6379', keyPrefix: 'sr:sess:' } }, usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
      tokens: 15, maxTokens: 1024, limits: { tokensPerMinute: 1000 }, data: 'data: {"x":1}', file: '/etc/stateroute.yaml', url: 'http://127.0.0.1:8080',
    };
    logger.info(fields, 'fine');
    expect(lines[0]).toMatchObject(fields);
  });
});
