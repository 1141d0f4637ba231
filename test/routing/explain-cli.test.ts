import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_BAD_CONFIG, EXIT_BAD_REQUEST, EXIT_OK, explainCommand } from '../../src/cli/explain.js';

const dir = mkdtempSync(join(tmpdir(), 'stateroute-explain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `auth: { mode: none }
backends:
  azure: { type: azure-openai, endpoint: "https://a.openai.azure.com", apiKey: "\${AZ_KEY}", apiVersion: "2024-10-21" }
  bedrock: { type: bedrock, region: us-east-1 }
routes:
  fast:     { kind: stateless, backend: azure }
  sessions: { kind: stateful,  backend: bedrock }
rules:
  - name: agent-sessions
    when: { any: [ { header: x-session-id }, { body: previous_response_id } ] }
    route: sessions
  - name: batch-tenant
    when: { all: [ { tenant: batch }, { model: "gpt-4o*" } ] }
    route: fast
default: fast
`;

function file(name: string, text: string) {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function run(configText: string, request: unknown, env: Record<string, string> = { AZ_KEY: 'k' }) {
  let out = '';
  const code = explainCommand({
    configFile: file('gateway.yaml', configText),
    requestFile: file('request.json', typeof request === 'string' ? request : JSON.stringify(request)),
    out: { write: (s: string) => (out += s) },
    env,
  });
  return { code, out };
}

describe('stateroute explain', () => {
  it('the official client with a session header: matches the first rule', () => {
    expect(run(CONFIG, { headers: { 'X-Session-Id': 'abc' }, body: { model: 'gpt-4o', messages: [] } })).toEqual({
      code: EXIT_OK,
      out: [
        'request: POST /v1/chat/completions, no tenant, model "gpt-4o", session from header',
        'rule 1 "agent-sessions" (route sessions): MATCH — any[0]: header "x-session-id" is present',
        'decision: rule agent-sessions → route sessions (stateful) → backend bedrock, model unchanged',
        '',
      ].join('\n'),
    });
  });

  it('a request no rule matches: why each rule did not, then the default', () => {
    expect(run(CONFIG, { method: 'post', path: '/v1/chat/completions', tenant: 'acme', body: { model: 'gpt-4o', messages: [] } })).toEqual({
      code: EXIT_OK,
      out: [
        'request: POST /v1/chat/completions, tenant "acme", model "gpt-4o", no session',
        'rule 1 "agent-sessions" (route sessions): no match — any: none matched (header "x-session-id" is absent; body "previous_response_id" is absent)',
        'rule 2 "batch-tenant" (route fast): no match — all[0]: tenant "acme" is not batch',
        'default (route fast): MATCH — no rule matched',
        'decision: rule default → route fast (stateless) → backend azure, model unchanged',
        '',
      ].join('\n'),
    });
  });

  it('an empty request file object means POST /v1/chat/completions with no body', () => {
    const { code, out } = run(CONFIG, {});
    expect(code).toBe(EXIT_OK);
    expect(out.split('\n')[0]).toBe('request: POST /v1/chat/completions, no tenant, no model, no session');
  });

  it('an invalid config: the problems with file and line, exit 1', () => {
    const { code, out } = run(CONFIG.replace('{ header: x-session-id }', '{ hedaer: x-session-id }'), {});
    expect(code).toBe(EXIT_BAD_CONFIG);
    expect(out).toBe(
      `invalid config ${join(dir, 'gateway.yaml')}:\n  rules.0.when.any.0.hedaer: unknown matcher "hedaer" (did you mean "header"?); allowed: path, method, header, body, tenant, model, hasSession, all, any, not (${join(dir, 'gateway.yaml')}:10)\n`,
    );
    expect(run(CONFIG, {}, {}).out).toContain('environment variable AZ_KEY is not set');
  });

  it('a bad request file: exit 2 with the reason', () => {
    expect(run(CONFIG, '{ nope')).toMatchObject({ code: EXIT_BAD_REQUEST });
    expect(run(CONFIG, '{ nope').out).toMatch(/^cannot read the request file .*request\.json: /);
    expect(run(CONFIG, [1]).out).toBe(`${join(dir, 'request.json')}: expected a JSON object { method?, path?, headers?, tenant?, body? }\n`);
    expect(run(CONFIG, { header: {} }).out).toBe(`${join(dir, 'request.json')}: unknown field "header"; allowed: method, path, headers, tenant, body\n`);
    expect(run(CONFIG, { headers: { a: 1 } }).out).toBe(`${join(dir, 'request.json')}: header "a" must be a string\n`);
    expect(run(CONFIG, { path: 'v1/chat' }).out).toBe(`${join(dir, 'request.json')}: "path" must start with "/"\n`);
  });

  it('a missing config file', () => {
    let out = '';
    const code = explainCommand({ configFile: join(dir, 'missing.yaml'), requestFile: file('r.json', '{}'), out: { write: (s: string) => (out += s) } });
    expect(code).toBe(EXIT_BAD_CONFIG);
    expect(out).toMatch(/cannot read the config file/);
  });
});

describe('stateroute explain --rules', () => {
  it('prints the built-in routes and rules in effect before the explanation', () => {
    let out = '';
    const code = explainCommand({
      configFile: file('builtin.yaml', CONFIG.slice(0, CONFIG.indexOf('routes:'))),
      requestFile: file('r.json', JSON.stringify({ path: '/v1/responses', body: { model: 'gpt-4o', input: 'hi' } })),
      out: { write: (s: string) => (out += s) },
      env: { AZ_KEY: 'k' },
      showRules: true,
    });
    expect(code).toBe(EXIT_OK);
    expect(out).toBe(
      [
        'routes (built-in):',
        '  stateless: stateless, backend azure',
        '  stateful: stateful, backend bedrock',
        'rules (built-in):',
        '  1. builtin-session: when {"hasSession":true} → stateful',
        '  2. builtin-stored-response: when {"all":[{"method":"POST"},{"path":"/v1/responses"},{"not":{"body":{"field":"store","equals":false}}}]} → stateful',
        'default: stateless',
        '',
        'request: POST /v1/responses, no tenant, model "gpt-4o", no session',
        'routing: built-in defaults (the config has no routes)',
        'rule 1 "builtin-session" (route stateful): no match — no session',
        'rule 2 "builtin-stored-response" (route stateful): MATCH — all: method POST is POST; path is "/v1/responses"; not: body "store" is absent',
        'decision: rule builtin-stored-response → route stateful (stateful) → backend bedrock, model unchanged',
        '',
      ].join('\n'),
    );
  });

  it('prints configured splits, model rewrites and fallbacks', () => {
    let out = '';
    explainCommand({
      configFile: file(
        'split.yaml',
        CONFIG.replace(
          '  fast:     { kind: stateless, backend: azure }',
          '  fast:     { kind: stateless, model: m0, split: [ { backend: azure, weight: 2 }, { backend: azure, model: m1, weight: 1 } ], fallbacks: [ { backend: azure } ] }',
        ),
      ),
      requestFile: file('r.json', '{}'),
      out: { write: (s: string) => (out += s) },
      env: { AZ_KEY: 'k' },
      showRules: true,
      random: () => 0,
    });
    expect(out.split('\n').slice(0, 7)).toEqual([
      'routes:',
      '  fast: stateless, split azure (m0) ×2, azure (m1) ×1, fallbacks azure',
      '  sessions: stateful, backend bedrock',
      'rules:',
      '  1. agent-sessions: when {"any":[{"header":"x-session-id"},{"body":"previous_response_id"}]} → sessions',
      '  2. batch-tenant: when {"all":[{"tenant":"batch"},{"model":"gpt-4o*"}]} → fast',
      'default: fast',
    ]);
    expect(out).toContain('decision: rule default → route fast (stateless) → backend azure, model rewritten to "m0"\nsplit: azure (m0) 66.7%, azure (m1) 33.3%; the backend above is one random pick\nfallbacks: azure\n');
  });
});
