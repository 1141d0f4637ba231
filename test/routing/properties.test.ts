// Properties over generated requests: decide never throws, explain agrees with decide, and globs
// agree with a naive reference matcher.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globToRegExp } from '../../src/routing/matchers.js';
import { BACKENDS, facts, routerFor } from './helpers.js';

const { router, cfg } = routerFor(`${BACKENDS}
routes:
  a: { kind: stateless, backend: azure }
  b: { kind: stateful, backend: bedrock }
  c: { kind: stateless, split: [ { backend: azure, weight: 1 }, { backend: azure2, weight: 2 } ] }
rules:
  - { name: s, when: { hasSession: true }, route: b }
  - { name: m, when: { all: [ { model: "g?t-*" }, { not: { body: { field: metadata.x, in: [1, "1", true] } } } ] }, route: c }
  - { name: h, when: { any: [ { header: { name: X-K, regex: "^[0-9]+$" } }, { body: { field: messages.-1.role, equals: tool } } ] }, route: a }
  - { name: p, when: { all: [ { method: [GET, DELETE] }, { path: { regex: "^/v1/responses/" } } ] }, route: b }
default: a
`);

const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue(),
  fc.record(
    {
      model: fc.oneof(fc.string(), fc.constantFrom('gpt-4o', 'gxt-', 'g?t-1'), fc.integer()),
      metadata: fc.oneof(fc.dictionary(fc.constantFrom('x', 'y'), fc.jsonValue()), fc.jsonValue()),
      messages: fc.array(fc.record({ role: fc.constantFrom('user', 'tool', 'assistant') }), { maxLength: 3 }),
      previous_response_id: fc.oneof(fc.string(), fc.constant(null)),
      conversation: fc.oneof(fc.string(), fc.record({ id: fc.jsonValue() })),
      store: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
);
const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'DELETE', 'patch'),
  path: fc.oneof(fc.constantFrom('/v1/chat/completions', '/v1/responses', '/v1/responses/r1?x'), fc.string().map((s) => `/${s}`)),
  headers: fc.dictionary(fc.constantFrom('x-k', 'x-session-id', 'authorization'), fc.string()),
  tenant: fc.option(fc.string(), { nil: undefined }),
  body,
});

describe('properties', () => {
  it('decide never throws, and explain ends on the same decision', () => {
    fc.assert(
      fc.property(request, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (req, r) => {
        const f = facts(cfg, req);
        const d = router.decide(f, () => r);
        const e = router.explain(f, () => r);
        expect(e.decision).toBe(d);
        expect(e.steps.at(-1)!.rule).toBe(d.rule);
        expect(e.steps.filter((s) => s.matched)).toHaveLength(1);
      }),
      { numRuns: 2000 },
    );
  });

  it('globToRegExp agrees with a naive wildcard matcher', () => {
    const naive = (g: string, s: string): boolean => {
      if (g === '') return s === '';
      if (g[0] === '*') return naive(g.slice(1), s) || (s !== '' && naive(g, s.slice(1)));
      return s !== '' && (g[0] === '?' || g[0] === s[0]) && naive(g.slice(1), s.slice(1));
    };
    const chars = fc.constantFrom('a', 'b', '.', '*', '?', '-', '(', '$');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 6 }), fc.string({ unit: chars, maxLength: 8 }), (g, s) => {
        expect(globToRegExp(g).test(s)).toBe(naive(g, s));
      }),
      { numRuns: 3000 },
    );
  });
});
