// Timeouts, enforced from outside the backend: each attempt gets its own abort signal (linked to
// the client's and to the request's total deadline), and one re-armable timer that aborts it when
// the phase it is in (headers, first token, idle) takes too long. Aborting the signal cancels the
// upstream request; every wait also races the abort, so a backend that ignores its signal cannot
// hang the gateway.
import { GatewayError } from '../errors.js';

const noop = () => {};

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

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** What an attempt listens to for an end from outside: an AbortSignal, or a Deadline. */
export interface AbortSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Aborts after `ms` (the whole request's budget). An AbortSource of its own, so a request does
 * not pay for an AbortController (an EventTarget) unless something asks for `signal`. */
export class Deadline implements AbortSource {
  private controller: AbortController | undefined;
  private listeners: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly endsAt: number;
  aborted = false;
  reason: unknown = undefined;

  constructor(readonly ms: number) {
    this.endsAt = performance.now() + ms;
    this.timer = setTimeout(() => this.expire(), ms);
    this.timer.unref();
  }

  /** An AbortSignal that fires with the deadline, made on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners.indexOf(listener);
    if (i !== -1) this.listeners.splice(i, 1);
  }

  remainingMs(): number {
    return Math.max(0, this.endsAt - performance.now());
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  private expire(): void {
    this.aborted = true;
    this.reason = deadlineExceeded(this.ms);
    this.controller?.abort(this.reason);
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}

/** The abort signal and the timer of one attempt. */
export class AttemptGuard {
  private readonly controller = new AbortController();
  /** Rejects with the abort reason the moment the attempt is aborted, for any cause. */
  private readonly aborted: Promise<never>;
  private readonly unlink: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private firesAt = 0;
  private expiresAt = 0;
  private periodMs = 0;
  private paused = false;
  private makeError: () => GatewayError = () => timeoutError('upstream_timeout', 'The upstream timed out.');

  constructor(parents: readonly AbortSource[]) {
    const signal = this.controller.signal;
    this.aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    this.aborted.catch(noop);
    for (const parent of parents) {
      if (parent.aborted) {
        this.abort(parent.reason);
        continue;
      }
      const onAbort = () => this.abort(parent.reason);
      parent.addEventListener('abort', onAbort, { once: true });
      this.unlink.push(() => parent.removeEventListener('abort', onAbort));
    }
  }

  /** The signal the backend gets. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.disarm();
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** Aborts with `error()` unless `kick()` or `arm()` is called within `ms`. Replaces any earlier timer. */
  arm(ms: number, error: () => GatewayError): void {
    this.paused = false;
    this.periodMs = ms;
    this.makeError = error;
    this.expiresAt = performance.now() + ms;
    if (this.timer && this.firesAt > this.expiresAt) this.disarm();
    if (!this.timer) this.schedule(ms);
  }

  /** Restarts the current period; touches the timer only if it lapsed during a pause, so it is
   * cheap enough for every chunk. */
  kick(): void {
    this.paused = false;
    this.expiresAt = performance.now() + this.periodMs;
    if (!this.timer && !this.controller.signal.aborted) this.schedule(this.periodMs);
  }

  /** Stops counting while the gateway, not the upstream, is the one being slow (the client reads slowly). */
  pause(): void {
    this.paused = true;
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Waits for `work`, but rejects as soon as the attempt is aborted (timeout, deadline, client). */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.aborted]);
  }

  dispose(): void {
    this.disarm();
    for (const unlink of this.unlink.splice(0)) unlink();
  }

  private schedule(delay: number): void {
    this.firesAt = performance.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.paused) return;
      const left = this.expiresAt - performance.now();
      if (left > 1) this.schedule(left);
      else this.abort(this.makeError());
    }, delay);
    this.timer.unref();
  }
}
