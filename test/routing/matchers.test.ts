// Each matcher and combinator in isolation: one rule "r" that either matches (route hit) or not
// (default → miss). The `when` text goes through the YAML loader and schema, as an operator writes it.
import { describe, expect, it } from 'vitest';
import { globToRegExp } from '../../src/routing/matchers.js';
import { oneRule, routerFor, type TestRequest } from './helpers.js';

type Case = [title: string, when: string, request: TestRequest, matches: boolean];

const chat = (body: Record<string, unknown>, more: TestRequest = {}): TestRequest => ({ body: { model: 'gpt-4o', messages: [], ...body }, ...more });

const cases: Case[] = [
  // path
  ['path exact', '{ path: /v1/chat/completions }', {}, true],
  ['path exact ignores the query string', '{ path: /v1/models }', { method: 'GET', path: '/v1/models?limit=2' }, true],
  ['path exact, other path', '{ path: /v1/responses }', {}, false],
  ['path equals', '{ path: { equals: /v1/embeddings } }', { path: '/v1/embeddings' }, true],
  ['path prefix', '{ path: { prefix: /v1/chat/ } }', {}, true],
  ['path prefix, no', '{ path: { prefix: /v1/resp } }', {}, false],
  ['path regex', '{ path: { regex: "^/v1/(embeddings|moderations)$" } }', { path: '/v1/moderations' }, true],
  ['path regex, no', '{ path: { regex: "^/v1/(embeddings|moderations)$" } }', {}, false],
  // method
  ['method', '{ method: POST }', {}, true],
  ['method is case-insensitive (config)', '{ method: post }', {}, true],
  ['method is case-insensitive (request)', '{ method: GET }', { method: 'get' }, true],
  ['method list', '{ method: [GET, HEAD] }', { method: 'HEAD' }, true],
  ['method list, no', '{ method: [GET, HEAD] }', {}, false],
  // header
  ['header present', '{ header: x-session-id }', { headers: { 'x-session-id': 's1' } }, true],
  ['header present, absent', '{ header: x-session-id }', {}, false],
  ['header name case-insensitive: mixed-case config, lower-case record', '{ header: X-Session-ID }', { headers: { 'x-session-id': 's1' } }, true],
  ['header name case-insensitive: fetch Headers with mixed case', '{ header: x-session-id }', { headers: new Headers({ 'X-SESSION-ID': 's1' }) }, true],
  ['header present: false', '{ header: { name: authorization, present: false } }', {}, true],
  ['header present: false, present', '{ header: { name: authorization, present: false } }', { headers: { authorization: 'Bearer x' } }, false],
  ['header equals', '{ header: { name: X-Beta, equals: "on" } }', { headers: new Headers({ 'x-beta': 'on' }) }, true],
  ['header equals is case-sensitive on the value', '{ header: { name: x-beta, equals: "on" } }', { headers: { 'x-beta': 'ON' } }, false],
  ['header equals, absent', '{ header: { name: x-beta, equals: "on" } }', {}, false],
  ['header regex', '{ header: { name: user-agent, regex: "^OpenAI/Python" } }', { headers: { 'user-agent': 'OpenAI/Python 1.99.0' } }, true],
  ['header regex, no', '{ header: { name: user-agent, regex: "^OpenAI/Python" } }', { headers: { 'user-agent': 'OpenAI/JS 6.0' } }, false],
  // body
  ['body present', '{ body: previous_response_id }', chat({ previous_response_id: 'resp_1' }), true],
  ['body present, null counts as absent', '{ body: previous_response_id }', chat({ previous_response_id: null }), false],
  ['body present, missing', '{ body: previous_response_id }', chat({}), false],
  ['body present, no body at all', '{ body: model }', { method: 'GET', path: '/v1/models' }, false],
  ['body present: false', '{ body: { field: tools, present: false } }', chat({}), true],
  ['body dotted path into an object', '{ body: metadata.session_id }', chat({ metadata: { session_id: 'abc' } }), true],
  ['body dotted path, parent missing', '{ body: metadata.session_id }', chat({}), false],
  ['body dotted path, parent is a string', '{ body: metadata.session_id }', chat({ metadata: 'x' }), false],
  ['body dotted path into an array', '{ body: { field: messages.0.role, equals: system } }', chat({ messages: [{ role: 'system' }, { role: 'user' }] }), true],
  ['body negative index from the end', '{ body: { field: messages.-1.role, equals: tool } }', chat({ messages: [{ role: 'user' }, { role: 'tool' }] }), true],
  ['body index out of range', '{ body: { field: messages.5.role, present: true } }', chat({ messages: [{ role: 'user' }] }), false],
  ['body nested arrays and objects', '{ body: { field: tools.1.function.name, equals: search } }', chat({ tools: [{ function: { name: 'a' } }, { function: { name: 'search' } }] }), true],
  ['body equals boolean', '{ body: { field: stream, equals: true } }', chat({ stream: true }), true],
  ['body equals false vs missing', '{ body: { field: store, equals: false } }', chat({}), false],
  ['body equals number', '{ body: { field: n, equals: 2 } }', chat({ n: 2 }), true],
  ['body equals string "2" vs number 2', '{ body: { field: n, equals: "2" } }', chat({ n: 2 }), false],
  ['body equals object (deep)', '{ body: { field: response_format, equals: { type: json_object } } }', chat({ response_format: { type: 'json_object' } }), true],
  ['body in', '{ body: { field: metadata.priority, in: [high, urgent] } }', chat({ metadata: { priority: 'urgent' } }), true],
  ['body in, no', '{ body: { field: metadata.priority, in: [high, urgent] } }', chat({ metadata: { priority: 'low' } }), false],
  ['body regex', '{ body: { field: user, regex: "^batch-" } }', chat({ user: 'batch-42' }), true],
  ['body regex on a number', '{ body: { field: max_tokens, regex: "^[0-9]{5,}$" } }', chat({ max_tokens: 32000 }), true],
  ['body regex on an object never matches', '{ body: { field: metadata, regex: "." } }', chat({ metadata: { a: 1 } }), false],
  ['body key that only exists on the prototype', '{ body: constructor }', chat({}), false],
  // tenant
  ['tenant', '{ tenant: batch }', { tenant: 'batch' }, true],
  ['tenant, other', '{ tenant: batch }', { tenant: 'acme' }, false],
  ['tenant, none', '{ tenant: batch }', {}, false],
  ['tenant list', '{ tenant: [acme, batch] }', { tenant: 'acme' }, true],
  // model
  ['model exact', '{ model: gpt-4o }', chat({}), true],
  ['model exact is not a prefix', '{ model: gpt-4o }', chat({ model: 'gpt-4o-mini' }), false],
  ['model glob *', '{ model: "gpt-4o*" }', chat({ model: 'gpt-4o-mini' }), true],
  ['model glob * matches empty', '{ model: "gpt-4o*" }', chat({}), true],
  ['model glob is anchored', '{ model: "4o*" }', chat({}), false],
  ['model glob ?', '{ model: "o?-mini" }', chat({ model: 'o4-mini' }), true],
  ['model glob ? is one character', '{ model: "o?-mini" }', chat({ model: 'o4x-mini' }), false],
  ['model glob dots are literal', '{ model: { glob: "gpt-4.1*" } }', chat({ model: 'gpt-401' }), false],
  ['model equals (object form)', '{ model: { equals: "gpt-4o" } }', chat({}), true],
  ['model, no body', '{ model: "*" }', { method: 'GET', path: '/v1/models' }, false],
  // hasSession
  ['hasSession: header', '{ hasSession: true }', chat({}, { headers: { 'x-session-id': 's' } }), true],
  ['hasSession: previous_response_id', '{ hasSession: true }', chat({ previous_response_id: 'resp_1' }), true],
  ['hasSession: conversation string', '{ hasSession: true }', chat({ conversation: 'conv_1' }), true],
  ['hasSession: conversation object', '{ hasSession: true }', chat({ conversation: { id: 'conv_1' } }), true],
  ['hasSession: none', '{ hasSession: true }', chat({}), false],
  ['hasSession: empty header is no session', '{ hasSession: true }', chat({}, { headers: { 'x-session-id': '' } }), false],
  ['hasSession: false', '{ hasSession: false }', chat({}), true],
  // combinators
  ['all', '{ all: [ { tenant: batch }, { model: "gpt-4o*" } ] }', chat({}, { tenant: 'batch' }), true],
  ['all, one fails', '{ all: [ { tenant: batch }, { model: "gpt-4o*" } ] }', chat({ model: 'o3' }, { tenant: 'batch' }), false],
  ['any', '{ any: [ { header: x-session-id }, { body: previous_response_id } ] }', chat({ previous_response_id: 'r' }), true],
  ['any, none', '{ any: [ { header: x-session-id }, { body: previous_response_id } ] }', chat({}), false],
  ['not', '{ not: { body: { field: store, equals: false } } }', chat({}), true],
  ['not, inner matches', '{ not: { body: { field: store, equals: false } } }', chat({ store: false }), false],
  ['nested all/any/not', '{ all: [ { method: POST }, { any: [ { path: /v1/responses }, { not: { model: "gpt-*" } } ] } ] }', chat({ model: 'claude-3' }), true],
  ['nested all/any/not, no', '{ all: [ { method: POST }, { any: [ { path: /v1/responses }, { not: { model: "gpt-*" } } ] } ] }', chat({}), false],
];

describe('matchers', () => {
  it.each(cases)('%s', (_title, when, request, matches) => {
    const { decide } = routerFor(oneRule(when));
    expect(decide(request)).toEqual(matches ? { route: 'hit', rule: 'r' } : { route: 'miss', rule: 'default' });
  });

  it('hasSession honours a configured session header and body field', () => {
    const { decide } = routerFor(oneRule('{ hasSession: true }', 'sessions: { header: X-Conversation, bodyField: metadata.sid }\n'));
    expect(decide(chat({}, { headers: { 'x-conversation': 'c1' } })).rule).toBe('r');
    expect(decide(chat({ metadata: { sid: 's1' } })).rule).toBe('r');
    expect(decide(chat({}, { headers: { 'x-session-id': 's1' } })).rule).toBe('default');
  });
});

describe('globToRegExp', () => {
  it.each([
    ['gpt-4o*', 'gpt-4o-2024-08-06', true],
    ['gpt-4o*', 'xgpt-4o', false],
    ['*-mini', 'o4-mini', true],
    ['a.b', 'axb', false],
    ['a+b(c)', 'a+b(c)', true],
    ['?', '', false],
    ['*', 'line\nbreak', true],
  ] as const)('%s vs %j → %s', (glob, value, expected) => {
    expect(globToRegExp(glob).test(value)).toBe(expected);
  });
});
