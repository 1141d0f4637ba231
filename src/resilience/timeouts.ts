// Timeouts, enforced from outside the backend. A request has one timer: it fires at the earlier of
// the request's deadline (`totalMs`) and the end of the phase the attempt in flight is in (headers,
// first token, idle). Phases move forward far more often than the timer needs to fire (every chunk
// restarts the idle period), so moving a phase later does not touch the timer: the timer fires at
// the earlier time, finds time left, and sleeps again for the rest. A request answered at once
// costs one setTimeout and one clearTimeout. Aborting an attempt cancels its upstream request
// through its signal; every wait also races the abort, so a backend that ignores its signal cannot
// hang the gateway.
import { GatewayError } from '../errors.js';
import type { LazyAbortController } from './lazy-abort.js';
import type { RequestAbort } from './request-abort.js';

export const timeoutError = (code: string, message: string) =>
  new GatewayError({ status: 504, type: 'timeout_error', code, message });

export const headersTimeout = (ms: number) =>
  timeoutError('upstream_headers_timeout', `The upstream did not answer within ${ms} ms.`);
export const firstTokenTimeout = (ms: number) =>
  timeoutError('upstream_first_token_timeout', `The upstream sent no content within ${ms} ms.`);
export const idleTimeout = (ms: number) =>
  timeoutError('upstream_idle_timeout', `The upstream stream stalled for more than ${ms} ms.`);
export const deadlineExceeded = (ms: number) =>
  timeoutError('gateway_timeout', `The request did not complete within ${ms} ms.`);

/** Node's timers run on a millisecond clock that may fire up to 1 ms before performance.now() agrees. */
const EARLY_MS = 1;

/** Resolves after `ms`, or rejects with the reason as soon as the request stops. */
export function sleep(ms: number, request: RequestAbort): Promise<void> {
  return new Promise((resolve, reject) => {
    if (request.stopped) return reject(request.reason);
    const timer = setTimeout(() => {
      request.sleeper = undefined;
      resolve();
    }, ms);
    request.sleeper = (reason) => {
      request.sleeper = undefined;
      clearTimeout(timer);
      reject(reason);
    };
  });
}

function onTimer(timer: RequestTimer): void {
  timer.fire();
}

/** The request's one timer: its deadline, and the phase of its attempt in flight (`request.current`). */
export class RequestTimer {
  private readonly endsAt: number;
  private timer: NodeJS.Timeout | undefined;
  /** When `timer` is due; meaningless while it is undefined. */
  private firesAt = 0;
  private disposed = false;

  constructor(
    private readonly request: RequestAbort,
    readonly totalMs: number,
  ) {
    this.endsAt = performance.now() + totalMs;
  }

  remainingMs(): number {
    return Math.max(0, this.endsAt - performance.now());
  }

  /** Makes the timer fire no later than `at`, nor later than the deadline (`now`: the caller's
   * performance.now(), read once: the clock costs more than the rest of a kick). */
  wake(at: number, now: number): void {
    if (this.disposed) return;
    const due = at < this.endsAt ? at : this.endsAt;
    if (this.timer !== undefined) {
      if (this.firesAt <= due) return;
      clearTimeout(this.timer);
    }
    this.schedule(due, now);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** @internal The timer went off: end whatever ran out, then sleep until the next thing that can. */
  fire(): void {
    this.timer = undefined;
    const now = performance.now();
    if (this.endsAt - now <= EARLY_MS) {
      this.request.abort(deadlineExceeded(this.totalMs));
      return;
    }
    const guard = this.request.current;
    let due = this.endsAt;
    if (guard !== undefined && !guard.paused && guard.expiresAt < due) {
      if (guard.expiresAt - now <= EARLY_MS) guard.expire();
      else due = guard.expiresAt;
    }
    if (!this.disposed) this.schedule(due, now);
  }

  private schedule(due: number, now: number): void {
    this.firesAt = due;
    // Rounded up: Node truncates a delay to whole milliseconds, which would wake the timer early.
    this.timer = setTimeout(onTimer, Math.max(1, Math.ceil(due - now)), this);
    this.timer.unref();
  }
}

/** The abort controller of one attempt and the phase it is timed in. The request's timer does the
 * timing; this only says when the phase ends. */
export class AttemptGuard {
  private readonly controller: LazyAbortController;
  /** Rejects the wait in progress, if any (there is at most one at a time). */
  private rejectWait: ((reason: unknown) => void) | undefined = undefined;
  private aborted = false;
  private reason: unknown = undefined;
  /** When the current phase ends (performance.now() time); Infinity while no phase is timed. */
  expiresAt = Number.POSITIVE_INFINITY;
  /** The gateway, not the upstream, is the slow one (the client reads slowly): the phase does not count. */
  paused = false;
  private periodMs = 0;
  private makeError: (ms: number) => GatewayError = headersTimeout;

  constructor(
    private readonly request: RequestAbort,
    private readonly timer: RequestTimer,
  ) {
    this.controller = request.lend();
    request.current = this;
    if (request.stopped) this.abort(request.reason);
  }

  /** The controller whose signal (made on first use) and cancellation the backend gets. */
  get cancel(): LazyAbortController {
    return this.controller;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.expiresAt = Number.POSITIVE_INFINITY;
    this.controller.abort(reason);
    this.rejectWait?.(reason);
    this.rejectWait = undefined;
  }

  /** Starts a phase: aborts with `error(ms)` unless `kick()` or `arm()` is called within `ms`. */
  arm(ms: number, error: (ms: number) => GatewayError): void {
    if (this.aborted) return;
    this.paused = false;
    this.periodMs = ms;
    this.makeError = error;
    const now = performance.now();
    this.expiresAt = now + ms;
    this.timer.wake(this.expiresAt, now);
  }

  /** Restarts the current period. Cheap enough for every chunk: the timer is touched only when it
   * would fire too late, which happens only after a pause outlasted the period. */
  kick(): void {
    if (this.aborted) return;
    this.paused = false;
    const now = performance.now();
    this.expiresAt = now + this.periodMs;
    this.timer.wake(this.expiresAt, now);
  }

  /** Stops counting while the gateway, not the upstream, is the one being slow (the client reads slowly). */
  pause(): void {
    this.paused = true;
  }

  /** @internal The phase ran out (called by the request's timer). */
  expire(): void {
    this.abort(this.makeError(this.periodMs));
  }

  /** Waits for `work`, but rejects as soon as the attempt is aborted (timeout, deadline, client). */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.aborted) return Promise.reject(this.reason);
    return new Promise<T>((resolve, reject) => {
      this.rejectWait = reject;
      work.then(resolve, reject);
    });
  }

  /** The attempt is over: the request's timer no longer times it. The signal is left as it is. */
  dispose(): void {
    this.expiresAt = Number.POSITIVE_INFINITY;
    if (this.request.current === this) this.request.current = undefined;
  }
}
