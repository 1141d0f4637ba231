import { describe, expect, it } from 'vitest';
import { readPath, requestFacts, splitPath, type RequestFactsInput } from '../../src/routing/facts.js';

const base = (more: Partial<RequestFactsInput> = {}): RequestFactsInput => ({
  method: 'post',
  path: '/v1/responses?x=1',
  headers: {},
  sessions: { header: 'x-session-id' },
  ...more,
});

describe('requestFacts', () => {
  it('reads the body fields rules test, without copying the body', () => {
    const body = {
      model: 'gpt-4o',
      stream: true,
      user: 'u1',
      metadata: { team: 'a' },
      tools: [{ type: 'function' }],
      previous_response_id: 'resp_1',
      conversation: { id: 'conv_1' },
      store: false,
    };
    const f = requestFacts(base({ body, tenant: 'acme' }));
    expect(f).toMatchObject({
      method: 'POST',
      path: '/v1/responses',
      tenant: 'acme',
      model: 'gpt-4o',
      stream: true,
      user: 'u1',
      metadata: { team: 'a' },
      hasTools: true,
      previousResponseId: 'resp_1',
      conversation: 'conv_1',
      store: false,
      sessionId: 'resp_1',
      sessionSource: 'previous_response_id',
    });
    expect(f.body).toBe(body);
    expect(f.metadata).toBe(body.metadata);
  });

  it('ignores fields of the wrong type', () => {
    const f = requestFacts(base({ body: { model: 4, stream: 'yes', user: {}, metadata: [1], tools: [], store: 'no', previous_response_id: '', conversation: { id: 7 } } }));
    expect(f).toMatchObject({ model: undefined, stream: false, user: undefined, metadata: undefined, hasTools: false, store: undefined, previousResponseId: undefined, conversation: undefined, sessionId: undefined, sessionSource: undefined });
  });

  it('tolerates a missing or non-object body', () => {
    for (const body of [undefined, null, 'text', 42, [1, 2]]) {
      expect(requestFacts(base({ body }))).toMatchObject({ model: undefined, stream: false, hasTools: false, sessionId: undefined });
    }
  });

  it.each([
    ['header first', { 'x-session-id': 'h1' }, { previous_response_id: 'r1', conversation: 'c1', metadata: { sid: 'b1' } }, 'h1', 'header'],
    ['then previous_response_id', {}, { previous_response_id: 'r1', conversation: 'c1', metadata: { sid: 'b1' } }, 'r1', 'previous_response_id'],
    ['then conversation (string)', {}, { conversation: 'c1', metadata: { sid: 'b1' } }, 'c1', 'conversation'],
    ['then conversation ({ id })', {}, { conversation: { id: 'c2' }, metadata: { sid: 'b1' } }, 'c2', 'conversation'],
    ['then the configured body field', {}, { metadata: { sid: 'b1' } }, 'b1', 'body'],
    ['an empty header does not count', { 'x-session-id': '  ' }, { metadata: { sid: 'b1' } }, 'b1', 'body'],
    ['none', {}, { metadata: { sid: 5 } }, undefined, undefined],
  ] as const)('session precedence: %s', (_t, headers, body, id, source) => {
    const f = requestFacts(base({ headers, body, sessions: { header: 'X-Session-Id', bodyField: 'metadata.sid' } }));
    expect([f.sessionId, f.sessionSource]).toEqual([id, source]);
  });

  it('header lookup is case-insensitive for Headers, and for names over a lower-cased record', () => {
    expect(requestFacts(base({ headers: new Headers({ 'X-Session-Id': 's' }) })).headers.get('X-SESSION-ID')).toBe('s');
    const rec = requestFacts(base({ headers: { 'x-session-id': 's', 'x-multi': ['a', 'b'] } }));
    expect(rec.headers.get('X-Session-Id')).toBe('s');
    expect(rec.headers.get('x-multi')).toBe('a, b');
    expect(rec.headers.get('x-absent')).toBeUndefined();
    expect(rec.sessionId).toBe('s');
  });
});

describe('readPath', () => {
  const body = { a: { b: [10, { c: 'x' }] }, n: null };
  it.each([
    ['a.b.0', 10],
    ['a.b.1.c', 'x'],
    ['a.b.-1.c', 'x'],
    ['a.b.-3', undefined],
    ['a.b.x', undefined],
    ['a.b.1.c.d', undefined],
    ['n.x', undefined],
    ['toString', undefined],
    ['a.__proto__', undefined],
  ])('%s → %j', (path, expected) => {
    expect(readPath(body, splitPath(path))).toEqual(expected);
  });
});
