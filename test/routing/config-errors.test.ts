// Routing mistakes fail at load with file, line and field, through the real YAML loader.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { unknownMatcherMessage } from '../../src/config/routing.js';

// Lines 1-5 (the routes section starts on line 6).
const HEAD = `auth: { mode: none }
backends:
  azure: { type: azure-openai, endpoint: "https://a.openai.azure.com", apiKey: k, apiVersion: "2024-10-21" }
  bedrock: { type: bedrock, region: us-east-1 }
routes:
`;
const ROUTES = `  fast: { kind: stateless, backend: azure }
  sessions: { kind: stateful, backend: bedrock }
default: fast
rules:
`; // lines 6-9; rules start on line 10

function problems(yaml: string): string[] {
  try {
    parseConfig(yaml, 'gw.yaml', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const rule = (when: string, name = 'r1', route = 'fast') => `  - name: ${name}\n    when: ${when}\n    route: ${route}\n`;

describe('routing config errors', () => {
  it('an unknown matcher names the key, suggests one and lists the allowed ones', () => {
    expect(problems(HEAD + ROUTES + rule('{ headers: x-session-id }'))).toEqual([
      'rules.0.when.headers: unknown matcher "headers" (did you mean "header"?); allowed: path, method, header, body, tenant, model, hasSession, all, any, not (gw.yaml:11)',
    ]);
  });

  it('an unknown matcher deep inside combinators, on its own line', () => {
    const yaml = HEAD + ROUTES + `  - name: deep
    when:
      all:
        - { method: POST }
        - any:
            - { tenant: a }
            - { ip: 10.0.0.1 }
    route: fast
`;
    expect(problems(yaml)).toEqual([
      'rules.0.when.all.1.any.1.ip: unknown matcher "ip"; allowed: path, method, header, body, tenant, model, hasSession, all, any, not (gw.yaml:16)',
    ]);
  });

  it('two matchers in one object, and an empty one', () => {
    expect(problems(HEAD + ROUTES + rule('{ tenant: a, model: b }') + rule('{}', 'r2'))).toEqual([
      'rules.0.when.model: one matcher per object (found tenant and model); combine them with all: [ … ] or any: [ … ] (gw.yaml:11)',
      'rules.1.when: empty matcher: give one of path, method, header, body, tenant, model, hasSession, all, any, not (gw.yaml:14)',
    ]);
  });

  it('a bad field inside a matcher', () => {
    expect(problems(HEAD + ROUTES + rule('{ header: { name: x-a, equal: b } }'))).toEqual(['rules.0.when.header: unknown field "equal" (gw.yaml:11)']);
  });

  it('a regex that does not compile', () => {
    const yaml = HEAD + ROUTES + `  - name: re
    when:
      path:
        regex: "^/v1/(chat"
    route: fast
`;
    expect(problems(yaml)).toEqual(['rules.0.when.path.regex: not a valid regular expression: /^/v1/(chat/: Unterminated group (gw.yaml:13)']);
    expect(problems(HEAD + ROUTES + rule('{ header: { name: ua, regex: "[a-" } }'))[0]).toMatch(
      /^rules\.0\.when\.header\.regex: not a valid regular expression: \/\[a-\/: .+ \(gw\.yaml:11\)$/,
    );
    expect(problems(HEAD + ROUTES + rule('{ body: { field: user, regex: "*x" } }'))[0]).toBe(
      'rules.0.when.body.regex: not a valid regular expression: /*x/: Nothing to repeat (gw.yaml:11)',
    );
  });

  it('an invalid glob', () => {
    expect(problems(HEAD + ROUTES + rule('{ model: "gpt-[45]*" }'))).toEqual([
      'rules.0.when.model: invalid glob "gpt-[45]*": only * and ? are wildcards; "[" is not supported (gw.yaml:11)',
    ]);
    expect(problems(HEAD + ROUTES + rule('{ model: { glob: "" } }'))).toEqual(['rules.0.when.model.glob: a glob cannot be empty (gw.yaml:11)']);
  });

  it('a duplicate rule name', () => {
    expect(problems(HEAD + ROUTES + rule('{ tenant: a }', 'same') + rule('{ tenant: b }', 'same'))).toEqual([
      'rules.1.name: duplicate rule name "same" (gw.yaml:13)',
    ]);
  });

  it('a rule naming a missing route', () => {
    expect(problems(HEAD + ROUTES + rule('{ tenant: a }', 'r1', 'slow'))).toEqual(['rules.0.route: unknown route "slow"; defined: fast, sessions (gw.yaml:12)']);
  });

  it('a missing default, and a default naming a missing route', () => {
    expect(problems(HEAD + '  fast: { kind: stateless, backend: azure }\n')).toEqual(['default: required when routes are defined: one of fast (gw.yaml:1)']);
    expect(problems(HEAD + '  fast: { kind: stateless, backend: azure }\ndefault: slow\n')).toEqual(['default: unknown route "slow"; defined: fast (gw.yaml:7)']);
  });

  it('a route naming a missing backend', () => {
    expect(problems(HEAD + '  fast: { kind: stateless, backend: azur }\ndefault: fast\n')).toEqual([
      'routes.fast.backend: unknown backend "azur"; defined: azure, bedrock (gw.yaml:6)',
    ]);
  });

  it('a route whose kind is not its backend\'s kind, also in splits and fallbacks', () => {
    const yaml = `${HEAD}  fast: { kind: stateful, backend: azure }
  mixed:
    kind: stateless
    split:
      - { backend: azure, weight: 1 }
      - { backend: bedrock, weight: 1 }
    fallbacks:
      - backend: bedrock
default: fast
`;
    expect(problems(yaml)).toEqual([
      'routes.fast.backend: a stateful route cannot use backend "azure", which is stateless (gw.yaml:6)',
      'routes.mixed.split.1.backend: a stateless route cannot use backend "bedrock", which is stateful (gw.yaml:11)',
      'routes.mixed.fallbacks.0.backend: a stateless route cannot use backend "bedrock", which is stateful (gw.yaml:13)',
    ]);
  });

  it('split weights', () => {
    const yaml = `${HEAD}  s:
    kind: stateless
    split:
      - { backend: azure, weight: 0 }
      - { backend: azure, weight: -2 }
  one: { kind: stateless, split: [ { backend: azure, weight: 1 } ] }
  both: { kind: stateless, backend: azure, split: [ { backend: azure, weight: 1 }, { backend: azure, weight: 1 } ] }
  nosplit: { kind: stateless, split: [ { backend: azure }, { backend: azure, weight: 1 } ] }
default: s
`;
    expect(problems(yaml)).toEqual([
      'routes.s.split.0.weight: a split weight must be a number greater than 0 (gw.yaml:9)',
      'routes.s.split.1.weight: a split weight must be a number greater than 0 (gw.yaml:10)',
      'routes.one.split: a split needs at least two targets; use "backend" for one (gw.yaml:11)',
      'routes.both.backend: a route needs exactly one of "backend" or "split" (gw.yaml:12)',
      'routes.nosplit.split.0.weight: required (number) (gw.yaml:13)',
    ]);
  });

  it('rules or a default without routes', () => {
    expect(problems(HEAD.replace('routes:\n', '') + 'default: fast\nrules:\n' + rule('{ tenant: a }'))).toEqual([
      'rules: without a "routes" section the built-in routing applies; define routes to use rules (gw.yaml:6)',
      'default: without a "routes" section the built-in routing applies; define routes to use default (gw.yaml:5)',
    ]);
  });

  it('matcher values of the wrong shape', () => {
    expect(problems(HEAD + ROUTES + rule('{ path: v1/chat }') + rule('{ method: [] }', 'r2') + rule('{ any: [] }', 'r3') + rule('{ body: "a..b" }', 'r4'))).toEqual([
      'rules.0.when.path: a path starts with "/" (gw.yaml:11)',
      'rules.1.when.method: give at least one method (gw.yaml:14)',
      'rules.2.when.any: give at least one matcher (gw.yaml:17)',
      'rules.3.when.body: a dotted field path such as "metadata.session_id" (no empty segments) (gw.yaml:20)',
    ]);
  });

  it('a value in neither the short nor the long form names both', () => {
    expect(problems(HEAD + ROUTES + rule('{ header: 5 }') + rule('{ method: { a: 1 } }', 'r2') + rule('{ tenant: 7 }', 'r3') + rule('{ body: [a] }', 'r4') + rule('{ model: true }', 'r5') + rule('{ path: 1 }', 'r6'))).toEqual([
      'rules.0.when.header: expected a header name, or { name, present | equals | regex } (gw.yaml:11)',
      'rules.1.when.method: expected a method or a list of methods (gw.yaml:14)',
      'rules.2.when.tenant: expected a tenant or a list of tenants (gw.yaml:17)',
      'rules.3.when.body: expected a body field such as metadata.session_id, or { field, present | equals | in | regex } (gw.yaml:20)',
      'rules.4.when.model: expected a model name or glob, or { equals | glob } (gw.yaml:23)',
      'rules.5.when.path: expected a path such as /v1/responses, or { equals | prefix | regex } (gw.yaml:26)',
    ]);
  });

  it('a mistake inside the long form is reported at its own field', () => {
    const yaml = HEAD + ROUTES + `  - name: long
    when:
      body:
        equals: 1
    route: fast
  - name: long2
    when:
      path:
        prefix: /v1/
        regex: "^/v2"
    route: fast
`;
    expect(problems(yaml)).toEqual([
      'rules.0.when.body.field: required (string) (gw.yaml:12)',
      'rules.1.when.path.regex: path matcher: give only one of equals, prefix, regex (found prefix and regex) (gw.yaml:19)',
    ]);
  });

  it('a valid config with every matcher loads', () => {
    const yaml = HEAD + ROUTES + rule(`
      all:
        - { path: { prefix: /v1/ } }
        - { method: [POST, put] }
        - { header: { name: X-A, regex: "^a" } }
        - { body: { field: metadata.k, in: [1, "2"] } }
        - { tenant: [a, b] }
        - { model: "gpt-4o*" }
        - { not: { hasSession: true } }
        - any: [ { model: { equals: o3 } }, { body: tools } ]`);
    expect(() => parseConfig(yaml, 'gw.yaml', {})).not.toThrow();
  });
});

describe('unknownMatcherMessage', () => {
  it.each([
    ['headers', 'header'],
    ['hassession', 'hasSession'],
    ['Path', 'path'],
    ['modl', 'model'],
    ['foo', undefined],
    ['ip', undefined],
  ])('%s → %s', (key, suggestion) => {
    const message = unknownMatcherMessage(key);
    expect(message.startsWith(`unknown matcher "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; allowed: `)).toBe(true);
  });
});
