// The limits section of the config, and the limiter's checks of its own options at creation.
import { describe, expect, it } from 'vitest';
import { limitsFor, limitsSchema } from '../../src/config/limits.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { createLimiter } from '../../src/limits/limiter.js';
import { MemoryLimitStore } from '../../src/limits/memory.js';
import { createLogger } from '../../src/logger.js';
import { configYaml } from './helpers.js';

const parseError = (limitsYaml: string): string => {
  try {
    parseConfig(configYaml(limitsYaml), 'limits.yaml', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected the config to be refused');
};

describe('limits config', () => {
  it('defaults: memory store, no limits', () => {
    const config = parseConfig(configYaml('{}'), 'limits.yaml', {});
    expect(config.limits).toMatchObject({ store: { type: 'memory' }, default: {}, tenants: {}, defaultOutputTokens: 1024 });
    expect(limitsFor(config.limits, 'acme')).toEqual({});
  });

  it('accepts `store: memory` and a Redis store', () => {
    expect(limitsSchema.parse({ store: 'memory' }).store).toEqual({ type: 'memory' });
    expect(limitsSchema.parse({ store: { type: 'redis', url: 'redis://127.0.0.1:6379' } }).store).toMatchObject({ keyPrefix: 'stateroute:limits:', commandTimeoutMs: 1000 });
  });

  it('a tenant overrides the default field by field; null lifts a limit', () => {
    const config = limitsSchema.parse({
      default: { requestsPerMinute: 60, concurrentRequests: 4, budgetUsd: { day: 10 } },
      tenants: { acme: { requestsPerMinute: 600, budgetUsd: null } },
    });
    expect(limitsFor(config, 'acme')).toEqual({ requestsPerMinute: 600, concurrentRequests: 4 });
    expect(limitsFor(config, 'globex')).toEqual({ requestsPerMinute: 60, concurrentRequests: 4, budgetUsd: { day: 10 } });
    expect(limitsFor(config, '__proto__')).toEqual(limitsFor(config, 'globex'));
  });

  it.each([
    ['default: { requestsPerMinute: 0 }', /limits\.default\.requestsPerMinute/],
    ['default: { tokensPerMinute: 1.5 }', /limits\.default\.tokensPerMinute/],
    ['default: { budgetUsd: { day: -1 } }', /limits\.default\.budgetUsd\.day/],
    ['default: { requestPerMinute: 10 }', /limits\.default/],
    ['tenants: { initech: { requestsPerMinute: 5 } }', /limits\.tenants\.initech: no gateway key has tenant "initech"; known: acme, globex/],
    ['store: { type: redis, url: "http://x" }', /limits\.store/],
    ['store: { type: redis, url: "redis://x", keyPrefix: "{a}" }', /limits\.store/],
  ])('refuses %s', (yaml, message) => {
    expect(parseError(yaml)).toMatch(message);
  });
});

describe('createLimiter checks its options at once', () => {
  const logger = createLogger({ level: 'silent' });
  const store = new MemoryLimitStore();
  it('a missing store, config function or logger, or an invalid config, throws at creation', () => {
    expect(() => createLimiter({ store: undefined as never, config: () => limitsSchema.parse({}), logger })).toThrow(/`store` must be a LimitStore/);
    expect(() => createLimiter({ store, config: {} as never, logger })).toThrow(/`config` must be a function/);
    expect(() => createLimiter({ store, config: () => limitsSchema.parse({}), logger: undefined as never })).toThrow(/logger/);
    expect(() => createLimiter({ store, config: () => ({ default: { requestsPerMinute: -1 } }) as never, logger })).toThrow();
  });
  it('returns a named middleware', () => {
    expect(createLimiter({ store, config: () => limitsSchema.parse({}), logger }).middleware.name).toBe('rateLimitsMiddleware');
  });
});
