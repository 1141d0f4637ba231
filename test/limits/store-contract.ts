// What every LimitStore must do, run against the memory store and the Redis store alike.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { budgetPeriods, type AdmitInput, type LimitStore } from '../../src/limits/store.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
let seq = 0;
const admitInput = (over: Partial<AdmitInput> = {}): AdmitInput => ({ tenant: 'acme', leaseId: `lease-${++seq}`, now: T0, tokens: 0, leaseTtlMs: 60_000, ...over });
const settleOf = (a: AdmitInput, over: { now?: number; tokens?: number; costNano?: number; trackTokens?: boolean } = {}) => {
  const now = over.now ?? a.now;
  return { tenant: a.tenant, leaseId: a.leaseId, now, tokens: over.tokens, trackTokens: over.trackTokens ?? true, costNano: over.costNano, periods: budgetPeriods(now) };
};

export function limitStoreContract(name: string, make: () => Promise<LimitStore>): void {
  describe(`${name} limit store`, () => {
    let store: LimitStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(() => store.close());

    it('requests per minute: a sliding window with the exact wait', async () => {
      for (const dt of [0, 1000, 2000]) expect(await store.admit(admitInput({ now: T0 + dt, requestsPerMinute: 3 }))).toEqual({ ok: true });
      expect(await store.admit(admitInput({ now: T0 + 5000, requestsPerMinute: 3 }))).toEqual({ ok: false, limit: 'requests_per_minute', retryAfterMs: 55_000 });
      expect(await store.admit(admitInput({ now: T0 + 60_000, requestsPerMinute: 3 }))).toEqual({ ok: true });
      expect(await store.admit(admitInput({ now: T0 + 60_500, requestsPerMinute: 3 }))).toEqual({ ok: false, limit: 'requests_per_minute', retryAfterMs: 500 });
      expect(await store.admit(admitInput({ tenant: 'globex', now: T0 + 60_500, requestsPerMinute: 3 }))).toEqual({ ok: true });
    });

    it('tokens per minute: reservation, reconciliation to the real usage, the wait until enough frees', async () => {
      const a = admitInput({ tokens: 600, tokensPerMinute: 1000 });
      expect(await store.admit(a)).toEqual({ ok: true });
      expect(await store.admit(admitInput({ now: T0 + 1000, tokens: 500, tokensPerMinute: 1000 }))).toEqual({ ok: false, limit: 'tokens_per_minute', retryAfterMs: 59_000 });
      await store.settle(settleOf(a, { now: T0 + 2000, tokens: 100 })); // now 100 tokens stamped at +2 s
      const b = admitInput({ now: T0 + 3000, tokens: 800, tokensPerMinute: 1000 });
      expect(await store.admit(b)).toEqual({ ok: true });
      // 900 in the log; 150 more needs the 100 at +2 s gone: 62 s − 10 s.
      expect(await store.admit(admitInput({ now: T0 + 10_000, tokens: 150, tokensPerMinute: 1000 }))).toEqual({ ok: false, limit: 'tokens_per_minute', retryAfterMs: 52_000 });
      expect(await store.admit(admitInput({ now: T0 + 62_000, tokens: 200, tokensPerMinute: 1000 }))).toEqual({ ok: true });
    });

    it('settling without usage keeps the reservation; settling twice changes nothing', async () => {
      const a = admitInput({ tokens: 900, tokensPerMinute: 1000, concurrentRequests: 5 });
      await store.admit(a);
      await store.settle(settleOf(a));
      await store.settle(settleOf(a));
      expect((await store.admit(admitInput({ now: T0 + 1, tokens: 200, tokensPerMinute: 1000 }))).ok).toBe(false);
      await store.settle(settleOf(a, { tokens: 50 }));
      await store.settle(settleOf(a, { tokens: 50 }));
      expect((await store.admit(admitInput({ now: T0 + 2, tokens: 950, tokensPerMinute: 1000 }))).ok).toBe(true);
    });

    it('concurrency: slots held until settled, or until the lease expires', async () => {
      const a = admitInput({ concurrentRequests: 2 });
      const b = admitInput({ concurrentRequests: 2 });
      expect(await store.admit(a)).toEqual({ ok: true });
      expect(await store.admit(b)).toEqual({ ok: true });
      expect(await store.admit(admitInput({ concurrentRequests: 2 }))).toEqual({ ok: false, limit: 'concurrent_requests', retryAfterMs: 1000 });
      await store.settle(settleOf(a));
      expect(await store.admit(admitInput({ concurrentRequests: 2 }))).toEqual({ ok: true });
      expect((await store.admit(admitInput({ concurrentRequests: 2 }))).ok).toBe(false);
      // b and the third were never settled (a lost replica): they free after leaseTtlMs.
      expect(await store.admit(admitInput({ now: T0 + 60_000, concurrentRequests: 2 }))).toEqual({ ok: true });
    });

    it('budgets: spend per UTC day and month; the wait is until the period ends; the binding limit is the longest wait', async () => {
      const p = budgetPeriods(T0);
      const budget = { ...p, dayNano: 1_000, monthNano: 5_000 };
      const a = admitInput({ budget });
      expect(await store.admit(a)).toEqual({ ok: true });
      await store.settle(settleOf(a, { costNano: 1_000 }));
      expect(await store.spend('acme', p)).toEqual({ dayNano: 1_000, monthNano: 1_000 });
      expect(await store.admit(admitInput({ budget, requestsPerMinute: 1 }))).toEqual({ ok: false, limit: 'budget_usd_day', retryAfterMs: 12 * 3600_000 });
      const tomorrow = T0 + 24 * 3600_000;
      const b2 = { ...budgetPeriods(tomorrow), dayNano: 1_000, monthNano: 1_000 };
      expect(await store.admit(admitInput({ now: tomorrow, budget: b2 }))).toEqual({ ok: false, limit: 'budget_usd_month', retryAfterMs: Date.UTC(2026, 11, 1) - tomorrow });
      expect(await store.spend('acme', budgetPeriods(tomorrow))).toEqual({ dayNano: 0, monthNano: 1_000 });
    });

    it('spend of overlapping requests of a budget-only tenant all counts', async () => {
      const p = budgetPeriods(T0);
      const budget = { ...p, dayNano: 10_000 };
      const a = admitInput({ budget });
      const b = admitInput({ budget });
      await store.admit(a);
      await store.admit(b);
      await store.settle(settleOf(a)); // nothing spent: the tenant holds no entries now
      await store.settle(settleOf(b, { costNano: 1_000 }));
      expect(await store.spend('acme', p)).toEqual({ dayNano: 1_000, monthNano: 1_000 });
    });

    it('a refused request records nothing', async () => {
      await store.admit(admitInput({ requestsPerMinute: 1, tokens: 10, tokensPerMinute: 100 }));
      for (let i = 0; i < 3; i++) expect((await store.admit(admitInput({ requestsPerMinute: 1, tokens: 10, tokensPerMinute: 100, concurrentRequests: 10 }))).ok).toBe(false);
      expect(await store.admit(admitInput({ tokens: 90, tokensPerMinute: 100, concurrentRequests: 1 }))).toEqual({ ok: true });
    });
  });
}
