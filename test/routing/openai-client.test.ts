// Requests as the official openai client really sends them (headers, body shapes) are routed as the
// config says: the session-bearing ones to the stateful route, the rest to the stateless one.
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRouter } from '../../src/routing/compile.js';
import { requestFacts } from '../../src/routing/facts.js';
import { BACKENDS, config } from './helpers.js';

const router = compileRouter(config(BACKENDS)); // built-in defaults
const seen: { route: string; rule: string; sessionSource: string | undefined }[] = [];

let server: ServerType;
let client: OpenAI;

beforeAll(async () => {
  const app = new Hono();
  app.post('/v1/*', async (c) => {
    const body: unknown = await c.req.json();
    const facts = requestFacts({ method: c.req.method, path: c.req.path, headers: c.req.raw.headers, body, sessions: router.sessions });
    const d = router.decide(facts);
    seen.push({ route: d.route, rule: d.rule, sessionSource: facts.sessionSource });
    // Just enough of a response for the client to accept it.
    if (c.req.path === '/v1/responses') return c.json({ id: 'resp_1', object: 'response', output: [], status: 'completed', model: 'm' });
    return c.json({ id: 'c1', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }] });
  });
  const url = await new Promise<string>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(`http://127.0.0.1:${info.port}/v1`));
  });
  client = new OpenAI({ baseURL: url, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the official openai client', () => {
  const last = () => seen.at(-1);

  it('chat without a session → stateless; with x-session-id → stateful', async () => {
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(last()).toEqual({ route: 'stateless', rule: 'default', sessionSource: undefined });
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'X-Session-Id': 'sess-1' } });
    expect(last()).toEqual({ route: 'stateful', rule: 'builtin-session', sessionSource: 'header' });
  });

  it('responses: stored → stateful, store: false → stateless, previous_response_id and conversation → stateful', async () => {
    await client.responses.create({ model: 'gpt-4o', input: 'hi' });
    expect(last()).toEqual({ route: 'stateful', rule: 'builtin-stored-response', sessionSource: undefined });
    await client.responses.create({ model: 'gpt-4o', input: 'hi', store: false });
    expect(last()).toEqual({ route: 'stateless', rule: 'default', sessionSource: undefined });
    await client.responses.create({ model: 'gpt-4o', input: 'again', previous_response_id: 'resp_1', store: false });
    expect(last()).toEqual({ route: 'stateful', rule: 'builtin-session', sessionSource: 'previous_response_id' });
    await client.responses.create({ model: 'gpt-4o', input: 'again', conversation: { id: 'conv_1' } });
    expect(last()).toEqual({ route: 'stateful', rule: 'builtin-session', sessionSource: 'conversation' });
  });
});
