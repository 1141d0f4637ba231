// The abort side of one request: why it stopped (the client left, or its deadline passed) and the
// abort controller of the attempt in flight. An AbortSignal costs Node more than the rest of the
// wrapper (an EventTarget built per signal, a JS listener list), so the request's own controller is
// lent to its first attempt: the common request, answered at the first attempt, makes no other
// signal and adds no listener. Only an attempt after a failed one gets a controller of its own.
import type { AttemptGuard } from './timeouts.js';

export class RequestAbort {
  private readonly own = new AbortController();
  /** The request's controller has gone to an attempt (which may abort it when it fails). */
  private lent = false;
  /** The attempt in flight: ending the request ends it at once, and its phase is what the request's timer watches. */
  current: AttemptGuard | undefined;
  /** Woken when the request stops, while it waits between two attempts. */
  sleeper: ((reason: unknown) => void) | undefined;
  /** The client left or the deadline passed: nothing more is tried. */
  stopped = false;
  reason: unknown = undefined;

  /** The request's signal, for what runs before the attempts (a session lock) and for the first attempt. */
  get signal(): AbortSignal {
    return this.own.signal;
  }

  /** Ends the request (the client left, the deadline passed): the attempt in flight and any wait end with `reason`. */
  abort(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reason = reason;
    this.own.abort(reason);
    this.current?.abort(reason);
    this.sleeper?.(reason);
  }

  /** A controller for the next attempt: the request's own the first time, then a fresh one, since an
   * attempt that fails aborts its controller to cancel its upstream. */
  lend(): AbortController {
    if (this.lent) return new AbortController();
    this.lent = true;
    return this.own;
  }
}
