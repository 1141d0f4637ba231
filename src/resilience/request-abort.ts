// The abort side of one request: why it stopped (the client left, or its deadline passed) and the
// abort controller of the attempt in flight. The request's own controller is lent to its first
// attempt, so the common request, answered at the first attempt, makes no second controller; and
// its controllers are lazy (lazy-abort.ts): on the raw pass-through no AbortSignal is made at all.
// Only an attempt after a failed one gets a controller of its own.
import type { Logger } from 'pino';
import type { CallContext } from '../backends/types.js';
import { LazyAbortController } from './lazy-abort.js';
import type { AttemptGuard } from './timeouts.js';

export class RequestAbort {
  /** The request's controller; `ctx.cancel` of the context made for it (callContext). */
  readonly controller = new LazyAbortController();
  /** The request's controller has gone to an attempt (which may abort it when it fails). */
  private lent = false;
  /** The attempt in flight: ending the request ends it at once, and its phase is what the request's timer watches. */
  current: AttemptGuard | undefined;
  /** Woken when the request stops, while it waits between two attempts. */
  sleeper: ((reason: unknown) => void) | undefined;
  /** The client left or the deadline passed: nothing more is tried. */
  stopped = false;
  reason: unknown = undefined;

  /** The request's signal, for what runs before the attempts (a session lock) and for the first
   * attempt; made on first use. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Ends the request (the client left, the deadline passed): the attempt in flight and any wait end with `reason`. */
  abort(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reason = reason;
    this.controller.abort(reason);
    this.current?.abort(reason);
    this.sleeper?.(reason);
  }

  /** A controller for the next attempt: the request's own the first time, then a fresh one, since an
   * attempt that fails aborts its controller to cancel its upstream. */
  lend(): LazyAbortController {
    if (this.lent) return new LazyAbortController();
    this.lent = true;
    return this.controller;
  }

  /** The context the request's calls get: `signal` is made only if a backend reads it. */
  callContext(fields: { requestId: string; tenant: string; logger: Logger }): CallContext {
    return new LazyCallContext(fields.requestId, fields.tenant, fields.logger, this.controller);
  }
}

/** A CallContext whose signal is its controller's, made on first read. A class, not a literal with a
 * getter: one allocation, and a spread of it would make the signal (so attemptContext copies fields). */
class LazyCallContext implements CallContext {
  constructor(
    readonly requestId: string,
    readonly tenant: string,
    readonly logger: Logger,
    readonly cancel: LazyAbortController,
  ) {}

  get signal(): AbortSignal {
    return this.cancel.signal;
  }
}

/** `ctx` for an attempt with a controller of its own (a retry, a fallback). */
export function attemptContext(ctx: CallContext, controller: LazyAbortController): CallContext {
  return new LazyCallContext(ctx.requestId, ctx.tenant, ctx.logger, controller);
}

