// Retry budget of one target: retries ≤ ratio × requests over a sliding window, but at least
// `minPerWindow`, so a failing upstream gets a bounded extra load instead of maxAttempts× its traffic.
// Same idea as Envoy's retry_budget and Linkerd's retry budgets. The window is ten buckets, so memory
// stays constant whatever the request rate.
import type { RetryBudgetConfig } from '../config/resilience.js';

const BUCKETS = 10;

export class RetryBudget {
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly retries = new Array<number>(BUCKETS).fill(0);
  /** Index (time / bucket width) of the newest bucket. */
  private head = 0;
  private bucketMs = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** A first attempt on the target. */
  recordRequest(config: RetryBudgetConfig): void {
    this.requests[this.advance(config)]! += 1;
  }

  /** Takes one retry from the budget if there is one left in the window. */
  tryAcquire(config: RetryBudgetConfig): boolean {
    const slot = this.advance(config);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const allowed = Math.max(config.minPerWindow, Math.floor(config.ratio * sum(this.requests)));
    if (sum(this.retries) >= allowed) return false;
    this.retries[slot]! += 1;
    return true;
  }

  /** Moves the window to now, zeroing the buckets that fell out of it; returns the current slot. */
  private advance(config: RetryBudgetConfig): number {
    const width = Math.max(1, Math.ceil(config.windowMs / BUCKETS));
    const index = Math.floor(this.now() / width);
    if (width !== this.bucketMs) {
      // A reloaded config changed the window: start afresh rather than mix bucket widths.
      this.bucketMs = width;
      this.requests.fill(0);
      this.retries.fill(0);
      this.head = index;
    }
    for (let i = this.head + 1; i <= Math.min(index, this.head + BUCKETS); i++) {
      this.requests[i % BUCKETS] = 0;
      this.retries[i % BUCKETS] = 0;
    }
    if (index > this.head) this.head = index;
    return this.head % BUCKETS;
  }
}
