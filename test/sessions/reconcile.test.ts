import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/backends/types.js';
import { GatewayError } from '../../src/errors.js';
import { canonicalMessage, chainHash, chainHashes, sessionKeyHash } from '../../src/sessions/hash.js';
import { commonPrefix, reconcile, type ReconcileMode } from '../../src/sessions/reconcile.js';

const sys: ChatMessage = { role: 'system', content: 'You are terse.' };
const sys2: ChatMessage = { role: 'system', content: 'You are verbose.' };
const dev: ChatMessage = { role: 'developer', content: 'Answer in French.' };
const u = (n: number | string): ChatMessage => ({ role: 'user', content: `u${n}` });
const a = (n: number | string): ChatMessage => ({ role: 'assistant', content: `a${n}` });
const stored = (messages: ChatMessage[]) => ({ messages, hashes: chainHashes(messages) });

interface Case {
  name: string;
  stored: ChatMessage[] | undefined;
  incoming: ChatMessage[];
  mode: ReconcileMode;
  keep: number;
  append: ChatMessage[];
  context: ChatMessage[];
  historyLength: number;
}

const cases: Case[] = [
  // (a) full history
  { name: 'no stored session: everything is new', stored: undefined, incoming: [sys, u(1)], mode: 'full-history', keep: 0, append: [sys, u(1)], context: [sys, u(1)], historyLength: 0 },
  { name: 'empty stored session', stored: [], incoming: [u(1)], mode: 'full-history', keep: 0, append: [u(1)], context: [u(1)], historyLength: 0 },
  { name: 'full history plus one new message', stored: [sys, u(1), a(1)], incoming: [sys, u(1), a(1), u(2)], mode: 'full-history', keep: 3, append: [u(2)], context: [sys, u(1), a(1), u(2)], historyLength: 3 },
  { name: 'full history plus a tool round', stored: [u(1)], incoming: [u(1), a(1), { role: 'tool', tool_call_id: 'c1', content: '42' }], mode: 'full-history', keep: 1, append: [a(1), { role: 'tool', tool_call_id: 'c1', content: '42' }], context: [u(1), a(1), { role: 'tool', tool_call_id: 'c1', content: '42' }], historyLength: 1 },
  { name: 'exactly the stored history, nothing new', stored: [u(1), a(1)], incoming: [u(1), a(1)], mode: 'full-history', keep: 2, append: [], context: [u(1), a(1)], historyLength: 2 },
  { name: 'only a stored system prompt, repeated with a new message', stored: [sys], incoming: [sys, u(1)], mode: 'full-history', keep: 1, append: [u(1)], context: [sys, u(1)], historyLength: 1 },

  // (b) new messages only
  { name: 'new-only: one user message', stored: [sys, u(1), a(1)], incoming: [u(2)], mode: 'new-only', keep: 3, append: [u(2)], context: [sys, u(1), a(1), u(2)], historyLength: 3 },
  { name: 'new-only: repeats the stored system prompt', stored: [sys, u(1), a(1)], incoming: [sys, u(2)], mode: 'new-only', keep: 3, append: [u(2)], context: [sys, u(1), a(1), u(2)], historyLength: 3 },
  { name: 'new-only: repeats system + developer prompts', stored: [sys, dev, u(1), a(1)], incoming: [sys, dev, u(2)], mode: 'new-only', keep: 4, append: [u(2)], context: [sys, dev, u(1), a(1), u(2)], historyLength: 4 },
  { name: 'new-only: a changed system prompt is a new message', stored: [sys, u(1), a(1)], incoming: [sys2, u(2)], mode: 'new-only', keep: 3, append: [sys2, u(2)], context: [sys, u(1), a(1), sys2, u(2)], historyLength: 3 },
  { name: 'new-only: the first user turn edited without a system prompt looks new', stored: [u(1), a(1)], incoming: [u('1b')], mode: 'new-only', keep: 2, append: [u('1b')], context: [u(1), a(1), u('1b')], historyLength: 2 },
  { name: 'new-only: only the stored system prompt, nothing else', stored: [sys, u(1), a(1)], incoming: [sys], mode: 'new-only', keep: 3, append: [], context: [sys, u(1), a(1)], historyLength: 3 },

  // (c) fork
  { name: 'fork: an edited later user turn', stored: [sys, u(1), a(1), u(2), a(2)], incoming: [sys, u(1), a(1), u('2b')], mode: 'fork', keep: 3, append: [u('2b')], context: [sys, u(1), a(1), u('2b')], historyLength: 3 },
  { name: 'fork: regenerate the last answer (incoming is a strict prefix)', stored: [sys, u(1), a(1), u(2), a(2)], incoming: [sys, u(1), a(1), u(2)], mode: 'fork', keep: 4, append: [], context: [sys, u(1), a(1), u(2)], historyLength: 4 },
  { name: 'fork: regenerate an earlier answer, dropping what followed', stored: [u(1), a(1), u(2), a(2)], incoming: [u(1)], mode: 'fork', keep: 1, append: [], context: [u(1)], historyLength: 1 },
  { name: 'fork: the client edited an assistant message', stored: [u(1), a(1), u(2), a(2)], incoming: [u(1), a('1 edited'), u(2)], mode: 'fork', keep: 1, append: [a('1 edited'), u(2)], context: [u(1), a('1 edited'), u(2)], historyLength: 1 },
  { name: 'fork: past the system prompt, a different first answer', stored: [sys, u(1), a(1), u(2), a(2)], incoming: [sys, u(1), a('x')], mode: 'fork', keep: 2, append: [a('x')], context: [sys, u(1), a('x')], historyLength: 2 },
];

describe('reconcile', () => {
  it.each(cases)('$name', (c) => {
    const r = reconcile(c.stored && stored(c.stored), c.incoming);
    expect(r).toEqual({ mode: c.mode, keep: c.keep, append: c.append, context: c.context, historyLength: c.historyLength, hashes: chainHashes(c.context) });
    // Invariants: context = the kept history + what is appended, and the history part is stored.
    expect(r.context).toEqual([...(c.stored ?? []).slice(0, r.keep), ...r.append]);
    expect(r.historyLength).toBe(r.keep);
  });

  it('sends the stored message objects upstream for the history part', () => {
    const history = [sys, u(1), a(1)];
    const echoed = history.map((m) => ({ ...m, refusal: null, annotations: [] }));
    const r = reconcile(stored(history), [...echoed, u(2)]);
    expect(r.mode).toBe('full-history');
    for (let i = 0; i < 3; i++) expect(r.context[i]).toBe(history[i]);
  });

  it('treats the SDK echo of a stored assistant tool call as the same message', () => {
    const call: ChatMessage = { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get', arguments: '{"q":1}' } }] };
    const echo: ChatMessage = { role: 'assistant', content: '', refusal: null, tool_calls: [{ id: 'call_1', function: { name: 'get', arguments: '{"q":1}' } }] };
    const r = reconcile(stored([u(1), call]), [u(1), echo, { role: 'tool', tool_call_id: 'call_1', content: 'ok' }]);
    expect(r).toMatchObject({ mode: 'full-history', keep: 2, append: [{ role: 'tool', tool_call_id: 'call_1', content: 'ok' }] });
  });

  it('rejects empty incoming messages with 400', () => {
    expect(() => reconcile(stored([u(1)]), [])).toThrow(GatewayError);
    try {
      reconcile(undefined, []);
    } catch (err) {
      expect((err as GatewayError).status).toBe(400);
      expect((err as GatewayError).param).toBe('messages');
    }
  });

  it('refuses a stored history whose hashes do not line up', () => {
    expect(() => reconcile({ messages: [u(1), a(1)], hashes: chainHashes([u(1)]) }, [u(2)])).toThrow(/hashes/);
  });

  it('does not modify its inputs', () => {
    const history = [sys, u(1), a(1), u(2), a(2)];
    const s = stored(history);
    const incoming = [sys, u(1), a(1), u('2b')];
    const before = JSON.stringify([s, incoming]);
    reconcile(s, incoming);
    expect(JSON.stringify([s, incoming])).toBe(before);
  });
});

describe('commonPrefix', () => {
  const h = (...messages: ChatMessage[]) => chainHashes(messages);
  it.each([
    { a: [], b: [], k: 0 },
    { a: h(u(1)), b: [], k: 0 },
    { a: h(u(1), a(1), u(2)), b: h(u(1), a(1), u(2)), k: 3 },
    { a: h(u(1), a(1), u(2)), b: h(u(1), a(1)), k: 2 },
    { a: h(u(1), a(1), u(2), a(2), u(3)), b: h(u(1), a(1), u(9), a(2), u(3)), k: 2 },
    { a: h(u(1)), b: h(u(2)), k: 0 },
  ])('$k', ({ a: x, b: y, k }) => {
    expect(commonPrefix(x, y)).toBe(k);
    expect(commonPrefix(y, x)).toBe(k);
  });

  it('agrees with a linear scan on every split point', () => {
    const history = Array.from({ length: 40 }, (_, i) => (i % 2 ? a(i) : u(i)));
    const full = chainHashes(history);
    for (let k = 0; k <= 40; k++) {
      const other = chainHashes([...history.slice(0, k), u('different'), ...history.slice(k + 1)]);
      expect(commonPrefix(full, other)).toBe(Math.min(k, 40));
    }
  });
});

describe('chain hashes', () => {
  it('is sha256 over the previous hash and the canonical message', () => {
    const [h1, h2] = chainHashes([u(1), a(1)]);
    expect(h1).toMatch(/^[0-9a-f]{64}$/);
    expect(h2).toBe(chainHash(h1!, a(1)));
    expect(chainHashes([a(1)], h1)).toEqual([h2]);
  });

  it('depends on everything before: the same message after a different history hashes differently', () => {
    expect(chainHashes([u(1), a(1)])[1]).not.toBe(chainHashes([u(2), a(1)])[1]);
  });

  it('covers role, content, name, tool calls and tool_call_id', () => {
    const base: ChatMessage = { role: 'assistant', content: 'x', name: 'bot', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] };
    const variants: ChatMessage[] = [
      { ...base, role: 'user' },
      { ...base, content: 'y' },
      { ...base, name: 'other' },
      { ...base, name: undefined },
      { ...base, tool_calls: [{ id: 'd', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { ...base, tool_calls: [{ id: 'c', type: 'function', function: { name: 'g', arguments: '{}' } }] },
      { ...base, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { ...base, tool_calls: undefined },
      { role: 'tool', content: 'x', tool_call_id: 'c' },
      { role: 'tool', content: 'x', tool_call_id: 'd' },
    ];
    const all = [base, ...variants].map(canonicalMessage);
    expect(new Set(all).size).toBe(all.length);
  });

  it('ignores fields the model does not see and normalises empty content', () => {
    const same = (x: ChatMessage, y: ChatMessage) => expect(canonicalMessage(x)).toBe(canonicalMessage(y));
    same({ role: 'assistant', content: 'hi' }, { role: 'assistant', content: 'hi', refusal: null, annotations: [], audio: null });
    same({ role: 'assistant', content: null }, { role: 'assistant', content: '' });
    same({ role: 'assistant', content: null }, { role: 'assistant' });
    same({ role: 'user', content: 'hi' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] });
    same({ role: 'assistant', content: 'x', tool_calls: [] }, { role: 'assistant', content: 'x' });
    same(
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'u', detail: 'low' } }, { type: 'text', text: 't' }] },
      { role: 'user', content: [{ image_url: { detail: 'low', url: 'u' }, type: 'image_url' }, { text: 't', type: 'text' }] },
    );
  });

  it('keeps content that differs only in type distinct', () => {
    expect(canonicalMessage({ role: 'user', content: '1' })).not.toBe(canonicalMessage({ role: 'user', content: 1 }));
    expect(canonicalMessage({ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] })).not.toBe(
      canonicalMessage({ role: 'user', content: 'ab' }),
    );
  });
});

describe('sessionKeyHash', () => {
  it('is short, stable and tenant-scoped', () => {
    expect(sessionKeyHash('t', 'abc')).toMatch(/^[0-9a-f]{16}$/);
    expect(sessionKeyHash('t', 'abc')).toBe(sessionKeyHash('t', 'abc'));
    expect(sessionKeyHash('t', 'abc')).not.toBe(sessionKeyHash('u', 'abc'));
    expect(sessionKeyHash('t', 'a:b')).not.toBe(sessionKeyHash('t:a', 'b'));
  });
});

describe('reconcile properties', () => {
  const message: fc.Arbitrary<ChatMessage> = fc.oneof(
    fc.record({ role: fc.constantFrom('user', 'assistant'), content: fc.constantFrom('a', 'b', 'c', '') }),
    fc.record({ role: fc.constant('system'), content: fc.constantFrom('s1', 's2') }),
  );
  const history = fc.array(message, { maxLength: 8 });
  const incomingMessages = fc.array(message, { minLength: 1, maxLength: 8 });

  it('always returns context = stored[:keep] + append, with append = the incoming tail', () => {
    fc.assert(
      fc.property(history, incomingMessages, (s, incoming) => {
        const r = reconcile(stored(s), incoming);
        expect(r.keep).toBeLessThanOrEqual(s.length);
        expect(r.historyLength).toBe(r.keep);
        expect(r.context).toEqual([...s.slice(0, r.keep), ...r.append]);
        expect(r.hashes).toEqual(chainHashes(r.context));
        expect(incoming.slice(incoming.length - r.append.length)).toEqual(r.append);
        if (r.mode === 'fork') expect(r.keep).toBeLessThan(s.length);
        if (r.mode !== 'fork') expect(r.keep).toBe(s.length);
      }),
    );
  });

  it('a full-history client gets exactly its new messages appended', () => {
    fc.assert(
      fc.property(history, fc.array(message, { maxLength: 4 }), (s, more) => {
        fc.pre(s.length + more.length > 0);
        expect(reconcile(stored(s), [...s, ...more])).toMatchObject({ mode: 'full-history', keep: s.length, append: more });
      }),
    );
  });

  it('after a full-history or fork turn the session holds exactly what the client sent', () => {
    fc.assert(
      fc.property(history, incomingMessages, (s, incoming) => {
        const r = reconcile(stored(s), incoming);
        const after = [...s.slice(0, r.keep), ...r.append];
        if (r.mode === 'new-only') expect(after).toEqual([...s, ...r.append]);
        else expect(chainHashes(after)).toEqual(chainHashes(incoming));
      }),
    );
  });
});
