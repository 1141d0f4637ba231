// Limit counters in this process: exact sliding logs per tenant. One replica only.
import { CONCURRENCY_RETRY_MS, WINDOW_MS, worst, type Admission, type AdmitInput, type BudgetPeriods, type LimitName, type LimitStore, type SettleInput } from './store.js';

interface TokenEntry {
  id: string;
  at: number;
  tokens: number;
}

class TenantCounters {
  requests: number[] = [];
  tokens: TokenEntry[] = [];
  tokenTotal = 0;
  /** leaseId → expiry */
  slots = new Map<string, number>();
  /** period ("2026-11" or "2026-11-25") → nano-USD */
  spend = new Map<string, number>();

  purge(now: number): void {
    const edge = now - WINDOW_MS;
    let r = 0;
    while (r < this.requests.length && this.requests[r]! <= edge) r++;
    if (r) this.requests.splice(0, r);
    let t = 0;
    while (t < this.tokens.length && this.tokens[t]!.at <= edge) this.tokenTotal -= this.tokens[t++]!.tokens;
    if (t) this.tokens.splice(0, t);
    for (const [id, expiry] of this.slots) if (expiry <= now) this.slots.delete(id);
  }

  get idle(): boolean {
    return this.requests.length === 0 && this.tokens.length === 0 && this.slots.size === 0 && this.spend.size === 0;
  }
}

export class MemoryLimitStore implements LimitStore {
  readonly type = 'memory';
  readonly #tenants = new Map<string, TenantCounters>();

  #counters(tenant: string): TenantCounters {
    let c = this.#tenants.get(tenant);
    if (!c) this.#tenants.set(tenant, (c = new TenantCounters()));
    return c;
  }

  async admit(input: AdmitInput): Promise<Admission> {
    const { now } = input;
    const c = this.#counters(input.tenant);
    c.purge(now);
    const failures: { limit: LimitName; retryAfterMs: number }[] = [];
    const b = input.budget;
    if (b?.dayNano !== undefined && (c.spend.get(b.day) ?? 0) >= b.dayNano) failures.push({ limit: 'budget_usd_day', retryAfterMs: b.dayEndsAt - now });
    if (b?.monthNano !== undefined && (c.spend.get(b.month) ?? 0) >= b.monthNano) failures.push({ limit: 'budget_usd_month', retryAfterMs: b.monthEndsAt - now });
    if (input.concurrentRequests !== undefined && c.slots.size >= input.concurrentRequests)
      failures.push({ limit: 'concurrent_requests', retryAfterMs: CONCURRENCY_RETRY_MS });
    const rpm = input.requestsPerMinute;
    if (rpm !== undefined && c.requests.length >= rpm)
      failures.push({ limit: 'requests_per_minute', retryAfterMs: c.requests[c.requests.length - rpm]! + WINDOW_MS - now });
    const tpm = input.tokensPerMinute;
    if (tpm !== undefined && c.tokenTotal + input.tokens > tpm) {
      let need = c.tokenTotal + input.tokens - tpm;
      let wait = WINDOW_MS;
      for (const e of c.tokens) {
        need -= e.tokens;
        if (need <= 0) {
          wait = e.at + WINDOW_MS - now;
          break;
        }
      }
      failures.push({ limit: 'tokens_per_minute', retryAfterMs: wait });
    }
    const verdict = worst(failures);
    if (!verdict.ok) return verdict;
    if (rpm !== undefined) c.requests.push(now);
    if (tpm !== undefined && input.tokens > 0) {
      c.tokens.push({ id: input.leaseId, at: now, tokens: input.tokens });
      c.tokenTotal += input.tokens;
    }
    if (input.concurrentRequests !== undefined) c.slots.set(input.leaseId, now + input.leaseTtlMs);
    return verdict;
  }

  async settle(input: SettleInput): Promise<void> {
    // Created if missing: a budget-only tenant holds no entries, so another settle may have dropped it as idle.
    const c = this.#counters(input.tenant);
    c.slots.delete(input.leaseId);
    if (input.tokens !== undefined) {
      const i = c.tokens.findIndex((e) => e.id === input.leaseId);
      const reserved = i >= 0;
      if (reserved) c.tokenTotal -= c.tokens.splice(i, 1)[0]!.tokens;
      if ((reserved || input.trackTokens) && input.tokens > 0) {
        // Stamped now: insert keeping the log ordered by time.
        let j = c.tokens.length;
        while (j > 0 && c.tokens[j - 1]!.at > input.now) j--;
        c.tokens.splice(j, 0, { id: input.leaseId, at: input.now, tokens: input.tokens });
        c.tokenTotal += input.tokens;
      }
    }
    const { day, month } = input.periods;
    if (input.costNano) {
      c.spend.set(day, (c.spend.get(day) ?? 0) + input.costNano);
      c.spend.set(month, (c.spend.get(month) ?? 0) + input.costNano);
    }
    for (const period of c.spend.keys()) if (period !== day && period !== month) c.spend.delete(period);
    c.purge(input.now);
    if (c.idle) this.#tenants.delete(input.tenant);
  }

  async spend(tenant: string, periods: BudgetPeriods) {
    const c = this.#tenants.get(tenant);
    return { dayNano: c?.spend.get(periods.day) ?? 0, monthNano: c?.spend.get(periods.month) ?? 0 };
  }

  async close(): Promise<void> {
    this.#tenants.clear();
  }
}
