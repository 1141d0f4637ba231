import { describe, expect, it } from 'vitest';
import { exposedHeaders } from '../../../src/backends/azure/response.js';

const raw = (...pairs: [string, string][]) => pairs.flatMap(([name, value]) => [Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1')]);

describe('exposedHeaders', () => {
  it('a raw head (name, value…: undici\'s) gives what the same head as an object gives, whatever the case of its names', () => {
    const pairs: [string, string][] = [
      ['Content-Type', 'text/event-stream'],
      ['X-Request-Id', 'up-1'],
      ['apim-request-id', 'a-1'],
      ['Retry-After', '7'],
      ['retry-after-ms', '7000'],
      ['X-RateLimit-Remaining-Tokens', '0'],
      ['x-ratelimit-remaining-tokens', '1'],
      ['x-ms-region', 'Sweden Central'],
      ['X-Should-Retry', 'false'],
      ['x-powered-by', 'none'],
      ['accept-ranges', 'none'],
      ['date', 'Thu, 26 Nov 2026 19:00:00 GMT'],
    ];
    const expected = {
      'x-upstream-request-id': 'up-1',
      'apim-request-id': 'a-1',
      'retry-after': '7',
      'retry-after-ms': '7000',
      'x-ratelimit-remaining-tokens': '0, 1',
      'x-ms-region': 'Sweden Central',
      'x-should-retry': 'false',
    };
    expect(exposedHeaders(raw(...pairs))).toEqual(expected);
    const object: Record<string, string | string[]> = {};
    for (const [name, value] of pairs) {
      const key = name.toLowerCase();
      const seen = object[key];
      object[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    expect(exposedHeaders(object)).toEqual(expected);
  });

  it('a head with none of them gives none', () => {
    expect(exposedHeaders(raw(['content-type', 'application/json'], ['date', 'x']))).toEqual({});
    expect(exposedHeaders([])).toEqual({});
  });
});
