// The state failure handling keeps between requests: one breaker and one retry budget per target
// ("backend/model"). It lives as long as the backends it describes: a config reload builds new
// backends, and with them a fresh state.
import { RetryBudget } from './budget.js';
import { CircuitBreaker } from './breaker.js';

export class ResilienceState {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly budgets = new Map<string, RetryBudget>();

  constructor(readonly now: () => number = Date.now) {}

  breaker(key: string): CircuitBreaker {
    let b = this.breakers.get(key);
    if (!b) this.breakers.set(key, (b = new CircuitBreaker(this.now)));
    return b;
  }

  budget(key: string): RetryBudget {
    let b = this.budgets.get(key);
    if (!b) this.budgets.set(key, (b = new RetryBudget(this.now)));
    return b;
  }
}

const byOwner = new WeakMap<object, ResilienceState>();

/** The state attached to `owner` (the runtime's backend map), created on first use. */
export function resilienceStateFor(owner: object): ResilienceState {
  let state = byOwner.get(owner);
  if (!state) byOwner.set(owner, (state = new ResilienceState()));
  return state;
}
