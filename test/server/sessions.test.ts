// Stateful chat turns through the app: history kept by the gateway, reconciled, tenant-scoped.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { chainHashes } from '../../src/sessions/hash.js';
import { fakeGateway, OTHER_KEY, TEST_KEY } from '../helpers/app.js';

type Msg = { role: string; content: string | null };
const headers = (session: string, key = TEST_KEY) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-session-id': session });

function post(app: ReturnType<typeof fakeGateway>['app'], session: string, messages: Msg[], extra: Record<string, unknown> = {}, key = TEST_KEY) {
  return app.request('/v1/chat/completions', { method: 'POST', headers: headers(session, key), body: JSON.stringify({ model: 'claude', messages, ...extra }) });
}

describe('stateful chat sessions', () => {
  it('routes a session to the stateful backend and keeps the history', async () => {
    const g = fakeGateway();
    g.stateful.script = { reply: 'first reply' };
    const r1 = await post(g.app, 's1', [{ role: 'user', content: 'one' }]);
    expect(r1.status).toBe(200);
    expect(r1.headers.get('x-stateroute-route')).toBe('stateful');
    g.stateful.script = { reply: 'second reply' };
    await post(g.app, 's1', [{ role: 'user', content: 'two' }]);
    expect(g.stateless.calls).toHaveLength(0);
    const sent = g.stateful.calls[1]!;
    expect(sent.body.messages).toEqual([
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'first reply' },
      { role: 'user', content: 'two' },
    ]);
    expect(sent.historyLength).toBe(2);
  });

  it('names the session (per tenant) and the chain hashes of what it sends, as the store then holds them', async () => {
    const g = fakeGateway();
    g.stateful.script = { reply: 'first reply' };
    await post(g.app, 's1', [{ role: 'system', content: 'sys' }, { role: 'user', content: 'one' }]);
    g.stateful.script = { reply: 'second reply' };
    await post(g.app, 's1', [{ role: 'user', content: 'two' }]);
    await post(g.app, 's1', [{ role: 'user', content: 'two' }], {}, OTHER_KEY);
    const [first, second, other] = g.stateful.calls;
    expect(first!.history?.hashes).toEqual(chainHashes(first!.body.messages));
    expect(second!.history?.hashes).toEqual(chainHashes(second!.body.messages));
    expect(second!.history?.key).toBe(first!.history?.key);
    expect(other!.history?.key).not.toBe(first!.history?.key);
    const stored = (await (await g.app.request('/v1/sessions/s1', { headers: headers('s1') })).json()) as { messages: Msg[] };
    expect(chainHashes(stored.messages).slice(0, second!.body.messages.length)).toEqual(second!.history?.hashes);
  });

  it('a client sending only new messages and one sending the full history store identical histories', async () => {
    const newOnly = fakeGateway();
    const full = fakeGateway();
    const transcript: Msg[] = [];
    for (let turn = 1; turn <= 10; turn++) {
      newOnly.stateful.script = full.stateful.script = { reply: `reply ${turn}` };
      const user = { role: 'user', content: `question ${turn}` };
      await post(newOnly.app, 'conv', [user]);
      transcript.push(user);
      const res = await post(full.app, 'conv', transcript);
      const body = (await res.json()) as any;
      transcript.push(body.choices[0].message);
      // What each backend call received is the same whole conversation.
      expect(full.stateful.calls.at(-1)!.body.messages).toEqual(newOnly.stateful.calls.at(-1)!.body.messages);
    }
    const a = (await (await newOnly.app.request('/v1/sessions/conv', { headers: headers('conv') })).json()) as any;
    const b = (await (await full.app.request('/v1/sessions/conv', { headers: headers('conv') })).json()) as any;
    expect(a.messages).toHaveLength(20);
    expect(a.messages).toEqual(b.messages);
    expect(a.turns).toBe(10);
  });

  it('forks at the point of divergence when a turn is edited', async () => {
    const g = fakeGateway();
    g.stateful.script = { reply: 'r1' };
    await post(g.app, 'f', [{ role: 'user', content: 'u1' }]);
    g.stateful.script = { reply: 'r2' };
    await post(g.app, 'f', [{ role: 'user', content: 'u2' }]);
    g.stateful.script = { reply: 'r2-edited' };
    await post(g.app, 'f', [{ role: 'user', content: 'u1' }, { role: 'assistant', content: 'r1' }, { role: 'user', content: 'u2 edited' }]);
    const s = (await (await g.app.request('/v1/sessions/f', { headers: headers('f') })).json()) as any;
    expect(s.messages.map((m: Msg) => m.content)).toEqual(['u1', 'r1', 'u2 edited', 'r2-edited']);
  });

  it('a failed turn leaves the session exactly as it was', async () => {
    const g = fakeGateway();
    g.stateful.script = { reply: 'kept' };
    await post(g.app, 'x', [{ role: 'user', content: 'a' }]);
    g.stateful.script = { error: new GatewayError({ status: 503, message: 'down' }) };
    expect((await post(g.app, 'x', [{ role: 'user', content: 'b' }])).status).toBe(503);
    g.stateful.script = { reply: 'r s t', failAfter: 1, streamError: new GatewayError({ status: 502, message: 'cut' }) };
    const streamed = await post(g.app, 'x', [{ role: 'user', content: 'c' }], { stream: true });
    expect(await streamed.text()).toContain('"error"');
    const s = (await (await g.app.request('/v1/sessions/x', { headers: headers('x') })).json()) as any;
    expect(s.messages.map((m: Msg) => m.content)).toEqual(['a', 'kept']);
  });

  it('a streamed turn commits the assembled reply', async () => {
    const g = fakeGateway();
    g.stateful.script = { reply: 'streamed answer here' };
    const res = await post(g.app, 'st', [{ role: 'user', content: 'q' }], { stream: true });
    expect(await res.text()).toContain('[DONE]');
    const s = (await (await g.app.request('/v1/sessions/st', { headers: headers('st') })).json()) as any;
    expect(s.messages).toEqual([{ role: 'user', content: 'q' }, { role: 'assistant', content: 'streamed answer here' }]);
  });

  it("another tenant cannot read, extend or delete a tenant's session", async () => {
    const g = fakeGateway();
    await post(g.app, 'secret', [{ role: 'user', content: 'private' }]);
    const read = await g.app.request('/v1/sessions/secret', { headers: headers('secret', OTHER_KEY) });
    expect(read.status).toBe(404);
    expect(((await read.json()) as any).error.code).toBe('session_not_found');
    expect((await g.app.request('/v1/sessions/secret', { method: 'DELETE', headers: headers('secret', OTHER_KEY) })).status).toBe(404);
    await post(g.app, 'secret', [{ role: 'user', content: 'mine' }], {}, OTHER_KEY);
    expect(g.stateful.calls.at(-1)!.body.messages).toEqual([{ role: 'user', content: 'mine' }]);
    const own = (await (await g.app.request('/v1/sessions/secret', { headers: headers('secret') })).json()) as any;
    expect(own.messages.map((m: Msg) => m.content)).toEqual(['private', 'Hello from fake.']);
    const del = await g.app.request('/v1/sessions/secret', { method: 'DELETE', headers: headers('secret') });
    expect(await del.json()).toEqual({ id: 'secret', object: 'session.deleted', deleted: true });
  });

  it('20 concurrent turns on one session never interleave', async () => {
    const g = fakeGateway(undefined);
    g.stateful.script = { reply: 'ok', chunkDelayMs: 1 };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post(g.app, 'busy', [{ role: 'user', content: `m${i}` }])));
    const statuses = results.map((r) => r.status);
    const ok = statuses.filter((s) => s === 200).length;
    // Beyond the queue bound (8 waiters by default) turns get 409 session_busy; none may corrupt the history.
    expect(ok + statuses.filter((s) => s === 409).length).toBe(20);
    const s = (await (await g.app.request('/v1/sessions/busy', { headers: headers('busy') })).json()) as any;
    expect(s.messages).toHaveLength(ok * 2);
    for (let i = 0; i < s.messages.length; i += 2) {
      expect(s.messages[i].role).toBe('user');
      expect(s.messages[i + 1]).toEqual({ role: 'assistant', content: 'ok' });
    }
  });

  it('rejects a malformed session id with a 400', async () => {
    const g = fakeGateway();
    const res = await post(g.app, 'bad id with spaces', [{ role: 'user', content: 'x' }]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('invalid_session_id');
  });
});
