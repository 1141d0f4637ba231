// Rate limits, token limits, concurrency and USD budgets per tenant (see limiter.ts, store.ts).
import type { Logger } from 'pino';
import type { LimitsConfig } from '../config/limits.js';
import { createLimiter, type Limiter } from './limiter.js';
import { MemoryLimitStore } from './memory.js';
import { RedisLimitStore } from './redis.js';
import type { LimitStore } from './store.js';

export { createLimiter, type Limiter } from './limiter.js';
export { MemoryLimitStore } from './memory.js';
export { RedisLimitStore } from './redis.js';
export type { LimitStore } from './store.js';

export function createLimitStore(store: LimitsConfig['store']): LimitStore {
  return store.type === 'redis' ? new RedisLimitStore(store) : new MemoryLimitStore();
}

/** The gateway's limiter: its store is built once (a reload changes limits, not where they are counted). */
export function limiterFromConfig(options: { config: () => LimitsConfig; logger: Logger }): Limiter {
  return createLimiter({ store: createLimitStore(options.config().store), config: options.config, logger: options.logger });
}
