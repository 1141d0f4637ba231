// The request's controller lent to its first attempt (as the server calls the wrapper): the common
// request makes no signal of its own, and once an attempt has aborted the lent signal the client
// leaving still ends everything at once.
import { describe, expect, it } from 'vitest';
import type { Backend, CallContext, ChatCall } from '../../src/backends/types.js';
import { GatewayError } from '../../src/errors.js';
import { callWithResilience } from '../../src/resilience/call.js';
import { RequestAbort } from '../../src/resilience/request-abort.js';
import { FakeBackend } from '../helpers/fake-backend.js';
import { callFor, consume, context, fakes, fastPolicy, targets } from './helpers.js';

const gone = () => new GatewayError({ status: 499, message: 'Client closed the request.', code: 'client_closed' });
const unavailable = () => new GatewayError({ status: 503, message: 'Service unavailable.', code: 'upstream_unavailable' });

/** A FakeBackend that keeps the signal of every call. */
class SignalsSeen extends FakeBackend {
  signals: AbortSignal[] = [];
  override chat(call: ChatCall, ctx: CallContext) {
    this.signals.push(ctx.signal);
    return super.chat(call, ctx);
  }
}

function asServer() {
  const abort = new RequestAbort();
  const { requestId, tenant, logger } = context(new AbortController().signal);
  return { abort, ctx: abort.callContext({ requestId, tenant, logger }) };
}

describe('the request controller lent to the attempts', () => {
  it('the first attempt gets the request context itself: no signal of its own', async () => {
    const primary = new SignalsSeen('primary');
    let seen: CallContext | undefined;
    const { abort, ctx } = asServer();
    const send = (backend: Backend, attemptCtx: CallContext) => ((seen = attemptCtx), backend.chat(callFor(false)({ backend, acceptsPrefill: false }), attemptCtx));
    const result = await callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx, abort, send });
    expect(result.answeredBy).toBe(0);
    expect(seen).toBe(ctx);
    expect(primary.signals[0]).toBe(abort.signal);
    expect(abort.signal.aborted).toBe(false);
  });

  it('a retry gets a fresh signal; the failed attempt cancelled its own', async () => {
    const primary = new SignalsSeen('primary');
    primary.queue = [{ error: unavailable() }];
    const { abort, ctx } = asServer();
    const result = await callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx, abort, makeCall: callFor(true) });
    expect(primary.signals).toHaveLength(2);
    expect(primary.signals[0]!.aborted).toBe(true);
    expect(primary.signals[1]).not.toBe(primary.signals[0]);
    expect(primary.signals[1]!.aborted).toBe(false);
    expect((await consume(result)).text).toBe('Hello from fake.');
  });

  it('a retry after a slow failure gets a fresh headers timeout, not what was left of the first', async () => {
    const { primary } = fakes();
    // Each attempt takes 100 ms of a 150 ms headers timeout: two in a row pass only if each is timed alone.
    primary.queue = [{ headersDelayMs: 100, error: unavailable() }, { headersDelayMs: 100 }];
    const { abort, ctx } = asServer();
    const result = await callWithResilience({ targets: targets([primary]), policy: fastPolicy({ timeouts: { headersMs: 150 } }), ctx, abort, makeCall: callFor(true) });
    expect(primary.calls).toHaveLength(2);
    expect(result.attempts.map((a) => a.outcome)).toEqual(['failed', 'answered']);
  });

  it('the fallback after a headers timeout is timed afresh, and the client leaving still reaches it', async () => {
    const primary = new SignalsSeen('primary');
    const fallback = new SignalsSeen('fallback');
    primary.script = { hang: true };
    fallback.script = { hang: true };
    const { abort, ctx } = asServer();
    const reason = gone();
    const pending = callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy({ timeouts: { headersMs: 100 } }), ctx, abort, makeCall: callFor(true) });
    // The primary times out at 100 ms (aborting the lent signal); at 150 ms the fallback is waiting.
    await new Promise((r) => setTimeout(r, 150));
    expect(primary.signals[0]!.aborted).toBe(true);
    expect(fallback.signals).toHaveLength(1);
    expect(fallback.signals[0]!.aborted).toBe(false);
    const t0 = performance.now();
    abort.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(100);
    expect(fallback.signals[0]!.reason).toBe(reason);
  });

  it('the client leaving during the back-off after a failed attempt ends the request at once', async () => {
    const { primary, fallback } = fakes();
    primary.script = { error: new GatewayError({ status: 429, message: 'Slow down.', code: 'rate_limit_exceeded', headers: { 'retry-after-ms': '2000' } }) };
    const { abort, ctx } = asServer();
    const reason = gone();
    setTimeout(() => abort.abort(reason), 50);
    const t0 = performance.now();
    await expect(callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy(), ctx, abort, makeCall: callFor(false) })).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(primary.calls).toHaveLength(1);
    expect(fallback.calls).toHaveLength(0);
  });

  it('a request whose client already left calls nothing', async () => {
    const { primary } = fakes();
    const { abort, ctx } = asServer();
    const reason = gone();
    abort.abort(reason);
    await expect(callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx, abort, makeCall: callFor(false) })).rejects.toBe(reason);
    expect(primary.calls).toHaveLength(0);
  });

  it('refuses a controller that is not the context’s', async () => {
    const { primary } = fakes();
    await expect(callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx: context(), abort: new RequestAbort(), makeCall: callFor(false) })).rejects.toThrow(/must be `abort.callContext/);
  });
});
