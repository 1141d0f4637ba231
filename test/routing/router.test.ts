// Whole configs: rule order, routes and their targets, weighted splits, built-in defaults, explain.
import { describe, expect, it } from 'vitest';
import { compileRouter } from '../../src/routing/compile.js';
import { formatExplanation, formatRules } from '../../src/routing/explain.js';
import { requestFacts } from '../../src/routing/facts.js';
import { BACKENDS, config, facts, routerFor, type TestRequest } from './helpers.js';

// The issue's example, extended so every matcher kind appears in one ordered list.
const ISSUE_CONFIG = `${BACKENDS}
routes:
  fast:     { kind: stateless, backend: azure }
  cheap:    { kind: stateless, backend: azure2, model: gpt-4o-mini }
  sessions: { kind: stateful,  backend: bedrock, fallbacks: [ { backend: bedrock2, model: claude-haiku, acceptsPrefill: true } ] }
  canary:
    kind: stateless
    split:
      - { backend: azure, weight: 3 }
      - { backend: azure2, model: gpt-4.1, weight: 1 }
rules:
  - name: agent-sessions
    when: { any: [ { header: X-Session-Id }, { body: previous_response_id } ] }
    route: sessions
  - name: batch-tenant
    when: { all: [ { tenant: batch }, { model: "gpt-4o*" } ] }
    route: fast
  - name: models-list
    when: { all: [ { method: GET }, { path: { prefix: /v1/models } } ] }
    route: cheap
  - name: beta
    when: { header: { name: x-beta, regex: "^(1|on|true)$" } }
    route: canary
  - name: tools-to-bedrock
    when: { all: [ { body: { field: tools.0.type, equals: function } }, { not: { tenant: [acme] } } ] }
    route: sessions
  - name: no-stream-minis
    when: { all: [ { model: { glob: "*-mini" } }, { body: { field: stream, present: false } } ] }
    route: cheap
  - name: conversations
    when: { hasSession: true }
    route: sessions
default: fast
`;

const body = (more: Record<string, unknown> = {}) => ({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...more });

type Case = [title: string, request: TestRequest, route: string, rule: string];
const cases: Case[] = [
  ['plain chat → default', { body: body() }, 'fast', 'default'],
  ['session header (mixed case) → agent-sessions', { headers: new Headers({ 'X-SESSION-ID': 'abc' }), body: body() }, 'sessions', 'agent-sessions'],
  ['previous_response_id → agent-sessions', { path: '/v1/responses', body: body({ previous_response_id: 'resp_1' }) }, 'sessions', 'agent-sessions'],
  ['first match wins: session beats batch tenant', { tenant: 'batch', headers: { 'x-session-id': 's' }, body: body() }, 'sessions', 'agent-sessions'],
  ['batch tenant with a gpt-4o* model', { tenant: 'batch', body: body({ model: 'gpt-4o-mini' }) }, 'fast', 'batch-tenant'],
  ['batch tenant, other model falls through to later rules', { tenant: 'batch', body: body({ model: 'o4-mini' }) }, 'cheap', 'no-stream-minis'],
  ['GET /v1/models', { method: 'GET', path: '/v1/models' }, 'cheap', 'models-list'],
  ['GET /v1/models/gpt-4o', { method: 'GET', path: '/v1/models/gpt-4o' }, 'cheap', 'models-list'],
  ['POST /v1/models is not the list', { path: '/v1/models', body: body() }, 'fast', 'default'],
  ['beta header', { headers: { 'x-beta': 'on' }, body: body() }, 'canary', 'beta'],
  ['beta header with an unlisted value', { headers: { 'x-beta': 'yes' }, body: body() }, 'fast', 'default'],
  ['function tools → bedrock', { body: body({ tools: [{ type: 'function', function: { name: 'f' } }] }) }, 'sessions', 'tools-to-bedrock'],
  ['function tools but tenant acme', { tenant: 'acme', body: body({ tools: [{ type: 'function' }] }) }, 'fast', 'default'],
  ['mini model without stream', { body: body({ model: 'gpt-4.1-mini' }) }, 'cheap', 'no-stream-minis'],
  ['mini model streaming', { body: body({ model: 'gpt-4.1-mini', stream: true }) }, 'fast', 'default'],
  ['conversation object → conversations', { path: '/v1/responses', body: body({ conversation: { id: 'conv_1' } }) }, 'sessions', 'conversations'],
  ['no body at all', { method: 'DELETE', path: '/v1/responses/resp_1' }, 'fast', 'default'],
  ['body is an array, not an object', { body: [1, 2] }, 'fast', 'default'],
];

describe('a configured router', () => {
  const { decide, router, cfg } = routerFor(ISSUE_CONFIG);

  it.each(cases)('%s', (_title, request, route, rule) => {
    expect(decide(request, () => 0)).toEqual({ route, rule });
  });

  it('returns the route kind, target with model rewrite, and fallbacks', () => {
    expect(router.decide(facts(cfg, { headers: { 'x-session-id': 's' } }))).toEqual({
      route: 'sessions',
      rule: 'agent-sessions',
      kind: 'stateful',
      target: { backend: 'bedrock' },
      fallbacks: [{ backend: 'bedrock2', model: 'claude-haiku', acceptsPrefill: true }],
    });
    expect(router.decide(facts(cfg, { method: 'GET', path: '/v1/models' }))).toEqual({
      route: 'cheap',
      rule: 'models-list',
      kind: 'stateless',
      target: { backend: 'azure2', model: 'gpt-4o-mini' },
      fallbacks: [],
    });
  });

  it('splits by weight using the injected random and calls it only for a split', () => {
    const beta = facts(cfg, { headers: { 'x-beta': '1' }, body: body() });
    const pick = (r: number) => router.decide(beta, () => r).target;
    expect(pick(0)).toEqual({ backend: 'azure' });
    expect(pick(0.7499)).toEqual({ backend: 'azure' });
    expect(pick(0.75)).toEqual({ backend: 'azure2', model: 'gpt-4.1' });
    expect(pick(0.9999)).toEqual({ backend: 'azure2', model: 'gpt-4.1' });
    let calls = 0;
    router.decide(facts(cfg, { body: body() }), () => (calls++, 0));
    expect(calls).toBe(0);
    // Over many draws the shares follow the weights (a seeded, deterministic sequence).
    let seed = 42;
    const lcg = () => ((seed = (seed * 1664525 + 1013904223) % 2 ** 32) / 2 ** 32);
    let azure = 0;
    for (let i = 0; i < 10_000; i++) if (router.decide(beta, lcg).target.backend === 'azure') azure++;
    expect(azure / 10_000).toBeGreaterThan(0.72);
    expect(azure / 10_000).toBeLessThan(0.78);
  });

  it('hands out the same frozen decision object each time (no allocation per request)', () => {
    const f = facts(cfg, { body: body() });
    const d = router.decide(f);
    expect(router.decide(f)).toBe(d);
    expect(Object.isFrozen(d) && Object.isFrozen(d.target)).toBe(true);
  });

  it('exposes the rules in effect', () => {
    expect(router.builtIn).toBe(false);
    expect(router.rules.map((r) => r.name)).toEqual(['agent-sessions', 'batch-tenant', 'models-list', 'beta', 'tools-to-bedrock', 'no-stream-minis', 'conversations']);
    expect(router.defaultRoute).toBe('fast');
  });

  it('a route-level model is the default model of split targets', () => {
    const { router: r, cfg } = routerFor(`${BACKENDS}
routes:
  s: { kind: stateless, model: base, split: [ { backend: azure, weight: 1 }, { backend: azure2, model: own, weight: 1 } ] }
default: s
`);
    const f = facts(cfg, {});
    expect(r.decide(f, () => 0).target).toEqual({ backend: 'azure', model: 'base' });
    expect(r.decide(f, () => 0.5).target).toEqual({ backend: 'azure2', model: 'own' });
  });

  it('routes with no rules at all go to the default', () => {
    const { decide } = routerFor(`${BACKENDS}
routes:
  only: { kind: stateful, backend: bedrock }
default: only
`);
    expect(decide({ body: body() })).toEqual({ route: 'only', rule: 'default' });
  });
});

describe('built-in defaults (no routes in the config)', () => {
  const { decide, router } = routerFor(BACKENDS);

  const cases: Case[] = [
    ['plain chat → stateless', { body: body() }, 'stateless', 'default'],
    ['session header → stateful', { headers: { 'x-session-id': 's1' }, body: body() }, 'stateful', 'builtin-session'],
    ['previous_response_id → stateful', { path: '/v1/responses', body: body({ previous_response_id: 'resp_1', store: false }) }, 'stateful', 'builtin-session'],
    ['conversation → stateful', { path: '/v1/responses', body: body({ conversation: 'conv_1' }) }, 'stateful', 'builtin-session'],
    ['POST /v1/responses (store defaults to true) → stateful', { path: '/v1/responses', body: body() }, 'stateful', 'builtin-stored-response'],
    ['POST /v1/responses store: true → stateful', { path: '/v1/responses', body: body({ store: true }) }, 'stateful', 'builtin-stored-response'],
    ['POST /v1/responses store: false → stateless', { path: '/v1/responses', body: body({ store: false }) }, 'stateless', 'default'],
    ['GET /v1/responses/{id} → stateless', { method: 'GET', path: '/v1/responses/resp_1' }, 'stateless', 'default'],
    ['chat with store: true is not the Responses API', { body: body({ store: true }) }, 'stateless', 'default'],
    ['embeddings → stateless', { path: '/v1/embeddings', body: { model: 'text-embedding-3-small', input: 'x' } }, 'stateless', 'default'],
  ];
  it.each(cases)('%s', (_title, request, route, rule) => {
    expect(decide(request)).toEqual({ route, rule });
  });

  it('uses the first backend of each kind', () => {
    expect(router.builtIn).toBe(true);
    expect(router.routes).toEqual({
      stateless: { kind: 'stateless', backend: 'azure', fallbacks: [] },
      stateful: { kind: 'stateful', backend: 'bedrock', fallbacks: [] },
    });
    expect(router.rules.map((r) => `${r.name} → ${r.route}`)).toEqual(['builtin-session → stateful', 'builtin-stored-response → stateful']);
    expect(router.notes).toEqual([]);
  });

  it('a configured session body field counts as a session', () => {
    const r = routerFor(`${BACKENDS}sessions: { bodyField: metadata.session_id }\n`);
    expect(r.decide({ body: body({ metadata: { session_id: 's1' } }) })).toEqual({ route: 'stateful', rule: 'builtin-session' });
  });

  it('without a stateful backend session traffic stays stateless, and says so', () => {
    const r = routerFor(`auth: { mode: none }
backends:
  azure: { type: azure-openai, endpoint: "https://a.openai.azure.com", apiKey: k, apiVersion: "2024-10-21" }
`);
    expect(r.decide({ headers: { 'x-session-id': 's' }, body: body() })).toEqual({ route: 'stateless', rule: 'builtin-session' });
    expect(r.router.decide(facts(r.cfg, { headers: { 'x-session-id': 's' } })).kind).toBe('stateless');
    expect(r.router.notes).toEqual(['no stateful backend is configured: session traffic stays on route "stateless" (backend "azure")']);
  });

  it('without a stateless backend everything goes to the stateful route', () => {
    const r = routerFor(`auth: { mode: none }
backends:
  bedrock: { type: bedrock, region: us-east-1 }
`);
    expect(r.decide({ body: body() })).toEqual({ route: 'stateful', rule: 'default' });
    expect(r.router.notes).toEqual(['no stateless backend is configured: all traffic goes to route "stateful" (backend "bedrock")']);
  });
});

describe('explain', () => {
  const cfg = config(ISSUE_CONFIG);
  const router = compileRouter(cfg);
  const text = (req: TestRequest) => {
    const f = facts(cfg, req);
    return formatExplanation(router, f, router.explain(f, () => 0.9));
  };

  it('a request that matches a rule: the match and why each earlier rule did not', () => {
    expect(text({ tenant: 'batch', body: body({ model: 'o4-mini' }) })).toBe(
      [
        'request: POST /v1/chat/completions, tenant "batch", model "o4-mini", no session',
        'rule 1 "agent-sessions" (route sessions): no match — any: none matched (header "x-session-id" is absent; body "previous_response_id" is absent)',
        'rule 2 "batch-tenant" (route fast): no match — all[1]: model "o4-mini" does not match "gpt-4o*"',
        'rule 3 "models-list" (route cheap): no match — all[0]: method POST is not GET',
        'rule 4 "beta" (route canary): no match — header "x-beta" is absent',
        'rule 5 "tools-to-bedrock" (route sessions): no match — all[0]: body "tools.0.type" is absent',
        'rule 6 "no-stream-minis" (route cheap): MATCH — all: model "o4-mini" matches "*-mini"; body "stream" is absent',
        'decision: rule no-stream-minis → route cheap (stateless) → backend azure2, model rewritten to "gpt-4o-mini"',
      ].join('\n'),
    );
  });

  it('a request that matches no rule: every rule and the default', () => {
    expect(text({ tenant: 'acme', headers: { 'x-beta': 'nope' }, body: body({ stream: true, tools: [{ type: 'function' }] }) })).toBe(
      [
        'request: POST /v1/chat/completions, tenant "acme", model "gpt-4o", no session, stream',
        'rule 1 "agent-sessions" (route sessions): no match — any: none matched (header "x-session-id" is absent; body "previous_response_id" is absent)',
        'rule 2 "batch-tenant" (route fast): no match — all[0]: tenant "acme" is not batch',
        'rule 3 "models-list" (route cheap): no match — all[0]: method POST is not GET',
        'rule 4 "beta" (route canary): no match — header "x-beta" "nope" does not match /^(1|on|true)$/',
        'rule 5 "tools-to-bedrock" (route sessions): no match — all[1]: not: tenant "acme" is acme',
        'rule 6 "no-stream-minis" (route cheap): no match — all[0]: model "gpt-4o" does not match "*-mini"',
        'rule 7 "conversations" (route sessions): no match — no session',
        'default (route fast): MATCH — no rule matched',
        'decision: rule default → route fast (stateless) → backend azure, model unchanged',
      ].join('\n'),
    );
  });

  it('a split route and fallbacks are shown', () => {
    expect(text({ headers: { 'x-beta': 'true', 'x-session-id': 's1' } }).split('\n').slice(1)).toEqual([
      'rule 1 "agent-sessions" (route sessions): MATCH — any[0]: header "x-session-id" is present',
      'decision: rule agent-sessions → route sessions (stateful) → backend bedrock, model unchanged',
      'fallbacks: bedrock2 (claude-haiku)',
    ]);
    expect(text({ headers: { 'x-beta': 'true' } }).split('\n').slice(-2)).toEqual([
      'decision: rule beta → route canary (stateless) → backend azure2, model rewritten to "gpt-4.1"',
      'split: azure 75%, azure2 (gpt-4.1) 25%; the backend above is one random pick',
    ]);
  });

  it('built-in defaults are labelled and explain store: false', () => {
    const c = config(BACKENDS);
    const r = compileRouter(c);
    const f = facts(c, { path: '/v1/responses', body: body({ store: false }) });
    expect(formatExplanation(r, f, r.explain(f))).toBe(
      [
        'request: POST /v1/responses, no tenant, model "gpt-4o", no session, store: false',
        'routing: built-in defaults (the config has no routes)',
        'rule 1 "builtin-session" (route stateful): no match — no session',
        'rule 2 "builtin-stored-response" (route stateful): no match — all[2]: not: body "store" is false',
        'default (route stateless): MATCH — no rule matched',
        'decision: rule default → route stateless (stateless) → backend azure, model unchanged',
      ].join('\n'),
    );
  });

  it('never prints the value of a credential header', () => {
    const r = routerFor(`${BACKENDS}
routes:
  a: { kind: stateless, backend: azure }
rules:
  - name: internal-key
    when: { header: { name: Authorization, equals: "Bearer internal-secret-key" } }
    route: a
default: a
`);
    const f = facts(r.cfg, { headers: { authorization: 'Bearer client-secret' } });
    const out = formatExplanation(r.router, f, r.router.explain(f));
    expect(out).toContain('header "authorization" is [REDACTED], not [REDACTED]');
    expect(out).not.toMatch(/secret/);
    expect(formatRules(r.router)).toContain('1. internal-key: when {"header":{"name":"Authorization","equals":"[REDACTED]"}} → a');
  });

  it('explain and decide agree on every table case', () => {
    for (const [, request] of cases) {
      const f = facts(cfg, request);
      expect(router.explain(f, () => 0).decision).toBe(router.decide(f, () => 0));
    }
  });
});

describe('router.sessions', () => {
  it('carries the session settings of the same config, so facts and rules reload together', () => {
    const { router } = routerFor(`${BACKENDS}sessions: { header: X-Thread, bodyField: metadata.thread }\n`);
    expect(router.sessions).toEqual({ header: 'X-Thread', bodyField: 'metadata.thread' });
    const f = requestFacts({ method: 'POST', path: '/v1/chat/completions', headers: { 'x-thread': 't1' }, sessions: router.sessions });
    expect(router.decide(f).rule).toBe('builtin-session');
  });
});
