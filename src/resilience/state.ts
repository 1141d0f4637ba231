// The state failure handling keeps between requests: one breaker and one retry budget per target
// ("backend/model"). It lives as long as the backends it describes: a config reload builds new
// backends, and with them a fresh state. A target without a model rewrite is keyed by the client's
// model, so the maps are bounded: past `maxTargets` the least recently created entry is dropped.
import { RetryBudget } from './budget.js';
import { CircuitBreaker } from './breaker.js';

export interface ResilienceStateOptions {
  now?: () => number;
  maxTargets?: number;
}

export class ResilienceState {
  readonly now: () => number;
  private readonly maxTargets: number;
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly budgets = new Map<string, RetryBudget>();

  constructor(options: ResilienceStateOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxTargets = options.maxTargets ?? 1024;
  }

  breaker(key: string): CircuitBreaker {
    return this.entry(this.breakers, key, () => new CircuitBreaker(this.now));
  }

  budget(key: string): RetryBudget {
    return this.entry(this.budgets, key, () => new RetryBudget(this.now));
  }

  get size(): number {
    return this.breakers.size;
  }

  private entry<T>(map: Map<string, T>, key: string, create: () => T): T {
    let value = map.get(key);
    if (value === undefined) {
      if (map.size >= this.maxTargets) map.delete(map.keys().next().value!);
      map.set(key, (value = create()));
    }
    return value;
  }
}

const byOwner = new WeakMap<object, ResilienceState>();

/** The state attached to `owner` (the runtime's backend map), created on first use. */
export function resilienceStateFor(owner: object): ResilienceState {
  let state = byOwner.get(owner);
  if (!state) byOwner.set(owner, (state = new ResilienceState()));
  return state;
}
