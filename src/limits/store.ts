// What a limit store does, whichever holds the counters: admit a request atomically against every
// limit of its tenant (recording it only when all pass), and settle it at its end.
//
// Windows: requests and tokens per minute are **sliding** 60-second logs (each admitted request is
// an entry stamped with its time; an entry stops counting 60 s later), so `retry-after` is exact:
// the time until enough entries leave the window. Budgets are **fixed** UTC calendar periods (day,
// month). Concurrency slots are held until settled, or until `leaseTtlMs` passes (a lost release).

export type LimitName = 'requests_per_minute' | 'tokens_per_minute' | 'concurrent_requests' | 'budget_usd_day' | 'budget_usd_month';

export const WINDOW_MS = 60_000;
/** Concurrency frees at no known time: the hint a client gets to try again. */
export const CONCURRENCY_RETRY_MS = 1_000;

export interface AdmitInput {
  tenant: string;
  /** Unique per request (random), never client-chosen. */
  leaseId: string;
  now: number;
  /** Estimated tokens to reserve (0: none, e.g. a request that calls no model). */
  tokens: number;
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
  concurrentRequests?: number | undefined;
  /** Budgets and their periods, in integer nano-USD. */
  budget?: BudgetCheck | undefined;
  leaseTtlMs: number;
}

export interface BudgetPeriods {
  day: string;
  month: string;
  dayEndsAt: number;
  monthEndsAt: number;
}

export interface BudgetCheck extends BudgetPeriods {
  dayNano?: number | undefined;
  monthNano?: number | undefined;
}

export type Admission = { ok: true } | { ok: false; limit: LimitName; retryAfterMs: number };

export interface SettleInput {
  tenant: string;
  leaseId: string;
  now: number;
  /** Real tokens used: replaces the reservation (stamped now). Undefined keeps the estimate. */
  tokens?: number | undefined;
  /** Count the real tokens even if the reservation already left the window (the tenant has a tokens limit). */
  trackTokens: boolean;
  /** Metered cost in integer nano-USD (0 or undefined: nothing spent). */
  costNano?: number | undefined;
  periods: BudgetPeriods;
}

export interface LimitStore {
  readonly type: 'memory' | 'redis';
  admit(input: AdmitInput): Promise<Admission>;
  /** Releases the concurrency slot, reconciles tokens and adds the spend. Idempotent per lease. */
  settle(input: SettleInput): Promise<void>;
  /** Spend so far in the current periods, nano-USD. */
  spend(tenant: string, periods: BudgetPeriods): Promise<{ dayNano: number; monthNano: number }>;
  close(): Promise<void>;
}

export const usdToNano = (usd: number): number => Math.round(usd * 1e9);

/** The UTC calendar day and month containing `now`, and when each ends. */
export function budgetPeriods(now: number): BudgetPeriods {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const iso = d.toISOString();
  return {
    day: iso.slice(0, 10),
    month: iso.slice(0, 7),
    dayEndsAt: Date.UTC(y, m, d.getUTCDate() + 1),
    monthEndsAt: Date.UTC(y, m + 1, 1),
  };
}

/** Several limits failing: the binding one is the one that frees last. */
export function worst(failures: { limit: LimitName; retryAfterMs: number }[]): Admission {
  let pick: { limit: LimitName; retryAfterMs: number } | undefined;
  for (const f of failures) if (!pick || f.retryAfterMs > pick.retryAfterMs) pick = f;
  return pick ? { ok: false, limit: pick.limit, retryAfterMs: Math.max(0, pick.retryAfterMs) } : { ok: true };
}
