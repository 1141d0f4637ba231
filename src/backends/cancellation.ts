// How a backend learns that its call was given up. An AbortSignal does that too, but on Node 20
// making one and listening on it costs ~7 µs (an EventTarget per signal, a listener list), more
// than the rest of a pass-through call; the gateway's own controller (resilience/lazy-abort.ts)
// answers these questions without one and makes a signal only for the SDKs that need it.
import type { CallContext } from './types.js';

export interface Cancellation {
  readonly aborted: boolean;
  readonly reason: unknown;
  /** Calls `listener` once when the call is given up; returns the unsubscribe. Not called if already aborted. */
  onAbort(listener: (reason: unknown) => void): () => void;
}

/** A Cancellation that follows an AbortSignal (contexts made without the gateway's controller, tests). */
class SignalCancellation implements Cancellation {
  constructor(private readonly signal: AbortSignal) {}

  get aborted(): boolean {
    return this.signal.aborted;
  }

  get reason(): unknown {
    return this.signal.reason as unknown;
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    const signal = this.signal;
    const handler = () => listener(signal.reason);
    signal.addEventListener('abort', handler, { once: true });
    return () => signal.removeEventListener('abort', handler);
  }
}

export const signalCancellation = (signal: AbortSignal): Cancellation => new SignalCancellation(signal);

/** The context's cancellation: its own when it has one, else one that follows its signal. */
export const cancellationOf = (ctx: CallContext): Cancellation => ctx.cancel ?? signalCancellation(ctx.signal);
