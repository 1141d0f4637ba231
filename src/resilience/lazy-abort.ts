// An abort controller whose AbortSignal is made only when something asks for it. The gateway's own
// code (the raw Azure pass-through, the resilience wrapper) listens through `onAbort`; only the SDK
// transports need a real signal. See backends/cancellation.ts for why.
import type { Cancellation } from '../backends/cancellation.js';

export class LazyAbortController implements Cancellation {
  private controller: AbortController | undefined = undefined;
  /** Usually none or one: the upstream call in flight. */
  private listeners: ((reason: unknown) => void)[] | undefined = undefined;
  aborted = false;
  reason: unknown = undefined;

  /** Made on first use; already aborted (with the same reason) if the controller was. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** As AbortController.abort: without a reason, an AbortError DOMException. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.controller?.abort(this.reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener(this.reason);
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.aborted) return noop;
    (this.listeners ??= []).push(listener);
    return () => {
      const i = this.listeners?.indexOf(listener) ?? -1;
      if (i >= 0) this.listeners!.splice(i, 1);
    };
  }
}

const noop = () => {};
