import { describe, expect, it, vi } from 'vitest';
import { cancellationOf, signalCancellation } from '../../src/backends/cancellation.js';
import { LazyAbortController } from '../../src/resilience/lazy-abort.js';
import { RequestAbort } from '../../src/resilience/request-abort.js';
import { createLogger } from '../../src/logger.js';

const silentLogger = () => createLogger({ level: 'silent' });

describe('LazyAbortController', () => {
  it('tells its listeners once, with the reason, and a signal made later is already aborted with it', () => {
    const c = new LazyAbortController();
    const heard: unknown[] = [];
    c.onAbort((r) => heard.push(r));
    const gone = c.onAbort((r) => heard.push(['unsubscribed', r]));
    gone();
    const reason = new Error('client left');
    c.abort(reason);
    c.abort(new Error('second'));
    expect(heard).toEqual([reason]);
    expect(c.aborted).toBe(true);
    expect(c.signal.aborted).toBe(true);
    expect(c.signal.reason).toBe(reason);
    // Subscribing after the abort: nothing is called (the caller checks `aborted` first).
    const late = vi.fn();
    c.onAbort(late)();
    expect(late).not.toHaveBeenCalled();
  });

  it('aborts a signal that was read before the abort, and defaults the reason to an AbortError', () => {
    const c = new LazyAbortController();
    const signal = c.signal;
    const onAbort = vi.fn();
    signal.addEventListener('abort', onAbort);
    c.abort();
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(signal.reason).toMatchObject({ name: 'AbortError' });
    expect(c.reason).toBe(signal.reason);
  });

  it('makes no AbortController while nobody reads the signal', () => {
    const Real = globalThis.AbortController;
    let made = 0;
    globalThis.AbortController = class Counted extends Real {
      constructor() {
        super();
        made++;
      }
    };
    try {
      const request = new RequestAbort();
      const ctx = request.callContext({ requestId: 'r', tenant: 't', logger: silentLogger() });
      const heard = vi.fn();
      cancellationOf(ctx).onAbort(heard);
      request.abort(new Error('deadline'));
      expect(heard).toHaveBeenCalledTimes(1);
      expect(made).toBe(0);
      expect(ctx.signal.aborted).toBe(true);
      expect(made).toBe(1);
    } finally {
      globalThis.AbortController = Real;
    }
  });
});

describe('signalCancellation', () => {
  it('follows a signal: state, reason and one call per listener until unsubscribed', () => {
    const ac = new AbortController();
    const cancel = signalCancellation(ac.signal);
    const kept = vi.fn();
    const dropped = vi.fn();
    cancel.onAbort(kept);
    cancel.onAbort(dropped)();
    expect(cancel.aborted).toBe(false);
    ac.abort('why');
    expect(cancel.aborted).toBe(true);
    expect(cancel.reason).toBe('why');
    expect(kept).toHaveBeenCalledWith('why');
    expect(dropped).not.toHaveBeenCalled();
  });
});
