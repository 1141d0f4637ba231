// previous_response_id chains over the document store: cost per turn, long chains past the
// ancestor window, broken chains, and the prompt-cache hint on the stateful path.
import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { CHAIN_WINDOW, registerResponsesRoutes } from '../../../src/server/responses/index.js';
import { RecordingMeter } from '../../helpers/app.js';
import { MemoryDocuments } from './helpers.js';
import { authA, responsesGateway } from './helpers.js';

const post = (body: unknown, headers: Record<string, string> = authA) => ({ method: 'POST', headers, body: JSON.stringify(body) });

async function create(app: ReturnType<typeof responsesGateway>['app'], body: Record<string, unknown>, headers?: Record<string, string>) {
  const res = await app.request('/v1/responses', post({ model: 'gpt-4o', ...body }, headers));
  const json = (await res.json()) as any;
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(json)}`);
  return json;
}

describe('previous_response_id chains', () => {
  it('a turn writes one document holding only its own messages', async () => {
    const { app, documents, stateless } = responsesGateway();
    stateless.script = { reply: 'r' };
    let previous: string | undefined;
    for (let i = 0; i < 4; i++) previous = (await create(app, { input: `q${i}`, ...(previous ? { previous_response_id: previous } : {}) })).id;
    expect(documents.puts).toBe(4);
    const last = JSON.parse([...documents.docs.values()].at(-1)!.json);
    expect(last.messages).toEqual([
      { role: 'user', content: 'q3' },
      { role: 'assistant', content: 'r' },
    ]);
    expect(last.chain).toHaveLength(3);
    expect(last.chain.at(-1)).toBe(last.response.previous_response_id);
  });

  it(`rebuilds a chain longer than the ${CHAIN_WINDOW}-id window, in few round trips`, async () => {
    const { app, documents, stateless } = responsesGateway();
    const turns = CHAIN_WINDOW * 2 + 5;
    let previous: string | undefined;
    for (let i = 0; i < turns; i++) {
      stateless.script = { reply: `a${i}` };
      previous = (await create(app, { input: `q${i}`, ...(previous ? { previous_response_id: previous } : {}) })).id;
    }
    const maxChain = Math.max(...[...documents.docs.values()].map((d) => JSON.parse(d.json).chain.length));
    expect(maxChain).toBe(CHAIN_WINDOW);
    const gets = documents.gets;
    stateless.script = { reply: 'end' };
    await create(app, { input: 'last', previous_response_id: previous });
    expect(documents.gets - gets).toBe(turns); // every earlier turn read once, nothing twice
    const sent = stateless.calls.at(-1)!.body.messages;
    expect(sent).toHaveLength(turns * 2 + 1);
    expect(sent.slice(0, 2)).toEqual([{ role: 'user', content: 'q0' }, { role: 'assistant', content: 'a0' }]);
    expect(sent.slice(-3)).toEqual([{ role: 'user', content: `q${turns - 1}` }, { role: 'assistant', content: `a${turns - 1}` }, { role: 'user', content: 'last' }]);
    expect(sent.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([...Array.from({ length: turns }, (_, i) => `q${i}`), 'last']);
  });

  it('branches: two continuations of one response do not see each other', async () => {
    const { app, stateless } = responsesGateway();
    stateless.script = { reply: 'root answer' };
    const root = await create(app, { input: 'root' });
    stateless.script = { reply: 'left answer' };
    await create(app, { input: 'left', previous_response_id: root.id });
    await create(app, { input: 'right', previous_response_id: root.id });
    expect(stateless.calls[2]!.body.messages).toEqual([
      { role: 'user', content: 'root' },
      { role: 'assistant', content: 'root answer' },
      { role: 'user', content: 'right' },
    ]);
  });

  it('concurrent continuations of one response each get exactly their own conversation', async () => {
    const { app, stateless, documents } = responsesGateway();
    stateless.script = { reply: 'root answer' };
    const root = await create(app, { input: 'root' });
    const branches = await Promise.all(Array.from({ length: 20 }, (_, i) => create(app, { input: `branch ${i}`, previous_response_id: root.id })));
    expect(new Set(branches.map((b) => b.id)).size).toBe(20);
    expect(documents.docs.size).toBe(21);
    for (const call of stateless.calls.slice(1)) {
      const messages = call.body.messages;
      expect(messages.slice(0, 2)).toEqual([{ role: 'user', content: 'root' }, { role: 'assistant', content: 'root answer' }]);
      expect(messages).toHaveLength(3);
    }
    expect(stateless.calls.slice(1).map((c) => c.body.messages[2]!.content).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `branch ${i}`).sort());
  });

  it('a deleted ancestor breaks the chain with a clear 400, never a shortened conversation', async () => {
    const { app, stateless } = responsesGateway();
    const first = await create(app, { input: 'one' });
    const second = await create(app, { input: 'two', previous_response_id: first.id });
    const third = await create(app, { input: 'three', previous_response_id: second.id });
    await app.request(`/v1/responses/${first.id}`, { method: 'DELETE', headers: authA });
    const res = await app.request('/v1/responses', post({ model: 'gpt-4o', input: 'four', previous_response_id: third.id }));
    expect(res.status).toBe(400);
    const json = (await res.json()) as any;
    expect(json.error).toMatchObject({ code: 'previous_response_not_found', param: 'previous_response_id' });
    expect(json.error.message).toContain(first.id);
    expect(stateless.calls).toHaveLength(3);
    // Listing still works: the context after the gap.
    const list = (await (await app.request(`/v1/responses/${third.id}/input_items?order=asc`, { headers: authA })).json()) as any;
    expect(list.data.map((i: any) => i.content[0].text)).toEqual(['two', 'Hello from fake.', 'three']);
    expect(list).toMatchObject({ object: 'list', has_more: false, first_id: list.data[0].id, last_id: list.data[2].id });
  });

  it('on the stateful path, tells the backend where the stored history ends (prompt-cache point)', async () => {
    const { app, stateful, stateless } = responsesGateway();
    const session = { ...authA, 'x-session-id': 'sess-1' };
    const first = await create(app, { input: 'one', instructions: 'sys' }, session);
    expect(stateful.calls[0]!.historyLength).toBe(1);
    await create(app, { input: 'two', instructions: 'sys', previous_response_id: first.id }, session);
    expect(stateful.calls[1]!.historyLength).toBe(3);
    expect(stateful.calls[1]!.body.messages).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'Hello from fake.' },
      { role: 'user', content: 'two' },
    ]);
    await create(app, { input: 'stateless' });
    expect(stateless.calls[0]!.historyLength).toBeUndefined();
  });

  it('uses the route target model and reports the model that answered', async () => {
    const { app, stateless } = responsesGateway();
    const res = await create(app, { input: 'x' });
    expect(stateless.calls[0]!.model).toBe('gpt-4o');
    expect(res.model).toBe('gpt-4o-fake');
  });
});

describe('registerResponsesRoutes', () => {
  it('rejects bad options at start-up, not on the first request', () => {
    const meter = new RecordingMeter();
    expect(() => registerResponsesRoutes(new Hono(), { meter, documents: undefined as never })).toThrow(/documents/);
    expect(() => registerResponsesRoutes(new Hono(), { meter, documents: new MemoryDocuments(), ttlSeconds: 0 })).toThrow(/ttlSeconds/);
  });
});

describe('the SSE wire format', () => {
  it('is `event: <type>` + `data: <json>` blocks with route headers, and parses fed one byte at a time', async () => {
    const { Stream } = await import('openai/streaming');
    const { app, stateless } = responsesGateway();
    stateless.script = { reply: 'byte by byte', toolCalls: [{ id: 'call_x', name: 'f', arguments: '{"k":"ü"}' }] };
    const res = await app.request('/v1/responses', post({ model: 'gpt-4o', input: 'x', stream: true, tools: [{ type: 'function', name: 'f' }] }));
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-stateroute-route')).toBe('stateless');
    const bytes = new Uint8Array(await res.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    expect(text.startsWith('event: response.created\ndata: {"type":"response.created",')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(true);
    const blocks = text.split('\n\n').filter(Boolean);
    for (const block of blocks) expect(block).toMatch(/^event: ([a-z_.]+)\ndata: \{"type":"\1",.*\}$/s);

    let i = 0;
    const oneByte = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < bytes.length) controller.enqueue(bytes.slice(i, ++i));
        else controller.close();
      },
    });
    const events: any[] = [];
    for await (const e of Stream.fromSSEResponse<any>(new Response(oneByte), new AbortController())) events.push(e);
    expect(events).toEqual(blocks.map((b) => JSON.parse(b.slice(b.indexOf('data: ') + 6))));
    expect(events.at(-1).response.output.map((o: any) => o.type)).toEqual(['message', 'function_call']);
    expect(events.at(-1).response.output[1].arguments).toBe('{"k":"ü"}');
  });
});
