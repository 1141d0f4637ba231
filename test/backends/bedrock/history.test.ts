// history.ts keeps a session's translated history between turns. Whatever it keeps, a turn must send
// exactly what translating the whole conversation sends: the same Converse input, the same body
// (byte for byte) and its SHA-256; and a fork, an edit or another session must never see it.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converseBody } from '../../../src/backends/bedrock/body.js';
import { appendHead, HistoryCache, MIN_KEPT_BYTES } from '../../../src/backends/bedrock/history.js';
import { bedrockBackend } from '../../../src/backends/bedrock/index.js';
import { toConverseInput, type ConverseRequestOptions } from '../../../src/backends/bedrock/request.js';
import type { ChatBody, ChatMessage, HistoryRef } from '../../../src/backends/types.js';
import { GatewayError } from '../../../src/errors.js';
import { chainHashes } from '../../../src/sessions/hash.js';
import { startBedrockSimulator, type BedrockSimulator } from '../../../src/simulators/bedrock/index.js';

const MODEL_ID = 'anthropic.claude-sonnet-4-20250514-v1:0';
const PNG = `data:image/png;base64,${Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 250]).toString('base64')}`;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const options = (messages: ChatMessage[], historyLength: number | undefined, extra: Partial<ChatBody> = {}): ConverseRequestOptions => ({
  body: { model: 'm', messages, ...extra },
  modelId: MODEL_ID,
  historyLength,
  promptCache: true,
});
const ref = (key: string, messages: ChatMessage[]): HistoryRef => ({ key, hashes: chainHashes(messages) });

type Outcome = { error: { status: number; param: string | null | undefined; message: string } } | { input: unknown; body: string; sha256: string };

function expected(o: ConverseRequestOptions): Outcome {
  try {
    const input = toConverseInput(o);
    const body = converseBody(input);
    return { input, body, sha256: sha256(body) };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { error: { status: err.status, param: err.param, message: err.message } };
  }
}

function actual(cache: HistoryCache, o: ConverseRequestOptions, history: HistoryRef | undefined): Outcome {
  try {
    const { input, body } = cache.request(o, history);
    const text = body ? body.body.toString('utf8') : converseBody(input);
    return { input, body: text, sha256: body ? body.sha256 : sha256(text) };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { error: { status: err.status, param: err.param, message: err.message } };
  }
}

/** The cache's answer is the full translation's: same error, or the same body and hash, and an
 * input equal to the full one but for the messages written in the kept head (which it leaves out). */
function check(cache: HistoryCache, o: ConverseRequestOptions, history: HistoryRef | undefined): void {
  const want = expected(o);
  const got = actual(cache, o, history);
  if ('error' in want || 'error' in got) {
    expect(got).toEqual(want);
    return;
  }
  expect(got.body).toBe(want.body);
  expect(got.sha256).toBe(want.sha256);
  const { messages: gotMessages, ...gotRest } = got.input as { messages: unknown[] };
  const { messages: wantMessages, ...wantRest } = want.input as { messages: unknown[] };
  expect(gotRest).toEqual(wantRest);
  expect(gotMessages.length).toBeGreaterThan(0);
  expect(gotMessages).toEqual(wantMessages.slice(wantMessages.length - gotMessages.length));
}

// ── random sessions ──
const text = fc.oneof(fc.constantFrom('', ' ', 'ends in a space ', 'é🦊 "q" \\'), fc.string({ minLength: 1, maxLength: 10 }));
const content = fc.oneof(text, fc.array(text.map((t) => ({ type: 'text', text: t })), { maxLength: 2 }));
const turnMessages = fc.array(
  fc.oneof(
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('system' as const), content }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('user' as const), content }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('image' as const), content: text }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('assistant' as const), content: fc.option(content, { nil: null }), calls: fc.integer({ min: 0, max: 2 }) }) },
  ),
  { minLength: 0, maxLength: 5 },
);
const turns = fc.array(
  fc.record({
    /** Keep this many stored messages (a fork when fewer than stored), or all of them. */
    cut: fc.option(fc.nat(12), { nil: undefined, freq: 3 }),
    add: turnMessages,
    reply: fc.option(content, { nil: undefined, freq: 4 }),
    tools: fc.boolean(),
    temperature: fc.option(fc.constantFrom(0, 0.5, 1), { nil: undefined }),
    /** Structured output or JSON mode on some turns and not others (never part of the history). */
    format: fc.option(fc.constantFrom({ type: 'json_object' }, { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false } } }), { nil: undefined }),
  }),
  { minLength: 1, maxLength: 7 },
);

let callIds = 0;
function chatMessages(kinds: Array<{ kind: 'system' | 'user' | 'image' | 'assistant'; content: unknown; calls?: number }>): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const k of kinds) {
    if (k.kind === 'image') out.push({ role: 'user', content: [{ type: 'text', text: k.content }, { type: 'image_url', image_url: { url: PNG } }] });
    else if (k.kind !== 'assistant') out.push({ role: k.kind, content: k.content });
    else {
      const ids = Array.from({ length: k.calls ?? 0 }, () => `call_${callIds++}`);
      out.push({ role: 'assistant', content: k.content, ...(ids.length ? { tool_calls: ids.map((id) => ({ id, type: 'function', function: { name: 'lookup', arguments: `{"id":"${id}"}` } })) } : {}) });
      for (const id of ids) out.push({ role: 'tool', tool_call_id: id, content: `result ${id}` });
    }
  }
  return out;
}

describe('HistoryCache', () => {
  it('random sessions (growing, forking, with and without kept histories): the input, body and hash of a full translation', () => {
    fc.assert(
      fc.property(turns, fc.constantFrom(0, 60, 400), (plan, minKeptBytes) => {
        const cache = new HistoryCache(1 << 20, { minKeptBytes });
        let stored: ChatMessage[] = [];
        for (const turn of plan) {
          const keep = turn.cut === undefined ? stored.length : Math.min(turn.cut, stored.length);
          const context = [...stored.slice(0, keep), ...chatMessages(turn.add)];
          if (context.length === 0) continue;
          const extra: Partial<ChatBody> = { ...(turn.tools && { tools: [{ type: 'function', function: { name: 'lookup' } }] }), ...(turn.temperature !== undefined && { temperature: turn.temperature }), ...(turn.format !== undefined && { response_format: turn.format }) };
          const o = options(context, keep, extra);
          check(cache, o, ref('t:s', context));
          if ('error' in expected(o)) continue;
          stored = turn.reply === undefined ? context : [...context, { role: 'assistant', content: turn.reply }];
        }
      }),
      { numRuns: 300 },
    );
  });

  // A long conversation: each pair is ~140 bytes of body, so 40 pairs pass MIN_KEPT_BYTES.
  const pairs = (n: number, tag = ''): ChatMessage[] =>
    Array.from({ length: n }, (_, i) => [
      { role: 'user', content: `Question ${i}${tag}: what should I know about the quick brown fox?` },
      { role: 'assistant', content: `Answer ${i}${tag}: the fox is quick and the dog is lazy.` },
    ]).flat();
  const system = { role: 'system', content: 'Be brief.' };

  /** Proves a turn used what was kept: the history's first message is changed in the call but not in
   * its hashes (which a session store never allows), so only a kept translation still says "Question 0". */
  const usedKept = (cache: HistoryCache, key: string, history: ChatMessage[], next: ChatMessage[], hashes = chainHashes([...history, ...next])) => {
    const tampered = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'TAMPERED' }, ...history.slice(2)];
    const { body } = cache.request(options([...tampered, ...next], history.length), { key, hashes });
    return !body!.body.toString().includes('TAMPERED');
  };

  it('keeps a long history, and the next turn extends it instead of translating everything', () => {
    const cache = new HistoryCache(1 << 20);
    const history = [system, ...pairs(40)];
    const turn1 = [...history, { role: 'user', content: 'One more?' }];
    cache.request(options(turn1, history.length), ref('t:s', turn1));
    expect(cache.size).toBe(1);
    const history2 = [...turn1, { role: 'assistant', content: 'Sure.' }];
    expect(usedKept(cache, 't:s', history2, [{ role: 'user', content: 'And another?' }])).toBe(true);
  });

  it('a turn writes only what its messages add: the next head continues the previous head\'s buffer, whose bytes stay as they were', () => {
    const cache = new HistoryCache(1 << 20);
    let history = [system, ...pairs(40)];
    const heads: Array<{ head: Buffer; text: string }> = [];
    for (let turn = 0; turn < 6; turn++) {
      const context = [...history, { role: 'user', content: `turn ${turn}?` }];
      check(cache, options(context, history.length), ref('t:s', context));
      const head = cache.keptHead('t:s')!;
      heads.push({ head, text: head.toString('latin1') });
      history = [...context, { role: 'assistant', content: `reply ${turn}` }];
    }
    // One buffer behind every head after the first turn's (which had no room yet): no head was copied.
    expect(new Set(heads.slice(1).map((h) => h.head.buffer)).size).toBe(1);
    for (const { head, text } of heads) expect(head.toString('latin1')).toBe(text);
  });

  it('a head continued twice: the second continuation gets a buffer of its own, and no head\'s bytes change', () => {
    const first = appendHead({ bytes: Buffer.from('{"messages":['), used: 13 }, Buffer.from('{"messages":['), 'a,');
    const a = appendHead(first.store, first.head, 'bb,');
    expect(a.head.buffer).toBe(first.head.buffer);
    const b = appendHead(first.store, first.head, 'cc,');
    expect(b.head.buffer).not.toBe(first.head.buffer);
    const c = appendHead(a.store, a.head, 'dd,');
    expect([first.head, a.head, b.head, c.head].map(String)).toEqual(['{"messages":[a,', '{"messages":[a,bb,', '{"messages":[a,cc,', '{"messages":[a,bb,dd,']);
    // Multi-byte text: the room left is counted in bytes.
    const d = appendHead(c.store, c.head, `${'é🦊'.repeat(40)},`);
    expect(String(d.head)).toBe(`{"messages":[a,bb,dd,${'é🦊'.repeat(40)},`);
    expect(String(c.head)).toBe('{"messages":[a,bb,dd,');
  });

  it('a conversation sent whole in one request is kept for the next turn (the history was empty)', () => {
    const cache = new HistoryCache(1 << 20);
    const seed = [system, ...pairs(40), { role: 'user', content: 'Where were we?' }];
    const first = cache.request(options(seed, 0), ref('t:s', seed));
    expect(first.input).toEqual(toConverseInput(options(seed, 0)));
    expect(cache.size).toBe(1);
    expect(usedKept(cache, 't:s', [...seed, { role: 'assistant', content: 'Here.' }], [{ role: 'user', content: 'Go on.' }])).toBe(true);
  });

  it('a kept history serves turns with and without structured output alike: outputConfig and the JSON-mode instruction are the turn\'s, not the history\'s', () => {
    const cache = new HistoryCache(1 << 20);
    const history = [system, ...pairs(40)];
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
    const turn1 = [...history, { role: 'user', content: 'As JSON?' }];
    const json = { response_format: { type: 'json_schema', json_schema: { name: 'reply', schema } } };
    check(cache, options(turn1, history.length, json), ref('t:s', turn1));
    expect(cache.size).toBe(1);
    const first = cache.request(options(turn1, history.length, json), ref('t:s', turn1));
    expect(first.body).toBeDefined();
    expect(first.input.outputConfig?.textFormat?.structure?.jsonSchema).toEqual({ schema: JSON.stringify(schema), name: 'reply' });
    const history2 = [...turn1, { role: 'assistant', content: '{"answer":"yes"}' }];
    for (const extra of [{}, { response_format: { type: 'json_object' } }, json]) {
      const turn2 = [...history2, { role: 'user', content: 'Again?' }];
      check(cache, options(turn2, history2.length, extra), ref('t:s', turn2));
    }
    expect(usedKept(cache, 't:s', history2, [{ role: 'user', content: 'And another?' }])).toBe(true);
  });

  it('short histories are not kept', () => {
    const cache = new HistoryCache(1 << 20);
    const turn = [...pairs(3), { role: 'user', content: 'hi' }];
    check(cache, options(turn, 6), ref('t:s', turn));
    expect(cache.size).toBe(0);
    expect(MIN_KEPT_BYTES).toBeGreaterThan(1000);
  });

  it('a fork, an edited message, a deleted and recreated session: what is kept no longer matches and is not used', () => {
    const cache = new HistoryCache(1 << 20);
    const history = [system, ...pairs(40)];
    const next = [{ role: 'user', content: 'more?' }];
    cache.request(options([...history, ...next], history.length), ref('t:s', [...history, ...next]));
    // Fork at 21: the kept 81 messages are not a prefix of the new history.
    const forked = [...history.slice(0, 21), { role: 'user', content: 'edited' }];
    check(cache, options(forked, 21), ref('t:s', forked));
    // Same length, other content (the session was deleted and a new one began under the same id).
    const other = [system, ...pairs(40, '-other')];
    const o = options([...other, ...next], other.length);
    check(cache, o, ref('t:s', [...other, ...next]));
    expect(usedKept(cache, 't:s', other, next)).toBe(true);
  });

  it('a history at least as long as what is kept but different inside it (another replica, a recreated session) does not use it', () => {
    const cache = new HistoryCache(1 << 20);
    const next = [{ role: 'user', content: 'more?' }];
    const a = [system, ...pairs(40)];
    cache.request(options([...a, ...next], a.length), ref('t:s', [...a, ...next]));
    for (const b of [[system, ...pairs(40, '-b')], [system, ...pairs(40, '-c'), ...pairs(2)], [...a.slice(0, 80), { role: 'assistant', content: 'changed last' }]]) {
      check(cache, options([...b, ...next], b.length), ref('t:s', [...b, ...next]));
    }
  });

  it('sessions do not share what is kept, even with equal histories', () => {
    const cache = new HistoryCache(1 << 20);
    const history = [system, ...pairs(40)];
    const next = [{ role: 'user', content: 'more?' }];
    cache.request(options([...history, ...next], history.length), ref('tenant-a:s', [...history, ...next]));
    expect(usedKept(cache, 'tenant-b:s', history, next)).toBe(false);
    expect(usedKept(cache, 'tenant-a:s', history, next)).toBe(true);
  });

  it('stays within its byte budget, least recently used first; 0 keeps nothing', () => {
    const history = [system, ...pairs(40)];
    const next = [{ role: 'user', content: 'more?' }];
    const turn = [...history, ...next];
    const one = new HistoryCache(1 << 20);
    one.request(options(turn, history.length), ref('s0', turn));
    const entry = one.bytes;
    expect(entry).toBeGreaterThan(MIN_KEPT_BYTES);
    const cache = new HistoryCache(Math.floor(entry * 2.5));
    for (let i = 0; i < 5; i++) cache.request(options(turn, history.length), ref(`s${i}`, turn));
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBeLessThanOrEqual(entry * 2.5);
    expect(usedKept(cache, 's4', history, next)).toBe(true);
    expect(usedKept(cache, 's0', history, next)).toBe(false);
    const none = new HistoryCache(0);
    const o = options(turn, history.length);
    check(none, o, ref('s', turn));
    expect(none.size).toBe(0);
  });

  it('without a session (stateless) or without hashes for the history, it is toConverseInput', () => {
    const cache = new HistoryCache(1 << 20);
    const turn = [...pairs(40), { role: 'user', content: 'x' }];
    expect(cache.request(options(turn, undefined), undefined)).toEqual({ input: toConverseInput(options(turn, undefined)) });
    expect(cache.request(options(turn, 80), { key: 's', hashes: [] })).toEqual({ input: toConverseInput(options(turn, 80)) });
    expect(cache.size).toBe(0);
  });
});

describe('kept histories on the wire (real SDK, SigV4 payload hash checked by the simulator)', () => {
  const CREDENTIALS = { accessKeyId: 'AKIDHISTORY', secretAccessKey: 'history-secret' };
  let sim: BedrockSimulator;
  beforeAll(async () => {
    sim = await startBedrockSimulator({ region: 'us-east-1', credentials: CREDENTIALS, models: [MODEL_ID] });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it.each([false, true])('stream: %s — three turns of a long session send what a full translation sends', async (stream) => {
    const backend = bedrockBackend.create({
      name: 'b',
      logger: pino({ level: 'silent' }),
      connectMs: 5_000,
      config: bedrockBackend.configSchema.parse({ type: 'bedrock', region: 'us-east-1', endpoint: sim.url, credentials: CREDENTIALS, models: { m: MODEL_ID } }),
    });
    const ctx = { requestId: 'r', tenant: 't', signal: new AbortController().signal, logger: pino({ level: 'silent' }) };
    let history: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }, ...Array.from({ length: 120 }, (_, i): ChatMessage => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i} about foxes and dogs` }))];
    try {
      for (let turn = 0; turn < 3; turn++) {
        const context = [...history, { role: 'user', content: `turn ${turn}` }];
        sim.requests.length = 0;
        const result = await backend.chat(
          { body: { model: 'm', messages: context }, model: 'm', stream, clientWantsStreamUsage: false, historyLength: history.length, history: ref('1:t:s', context) },
          ctx,
        );
        let reply = '';
        if (result.type === 'stream') for await (const chunk of result.chunks!) reply += ((chunk.value as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '');
        else reply = String((result.body as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content);
        expect(sim.requests).toHaveLength(1);
        expect(sim.requests[0]!.status).toBe(200);
        expect(sim.requests[0]!.body).toEqual(JSON.parse(converseBody(toConverseInput(options(context, history.length)))));
        history = [...context, { role: 'assistant', content: reply }];
      }
    } finally {
      await backend.close?.();
    }
  });
});
