// The request's one timer, on a fake clock: each phase and the deadline fire at their time and
// abort the attempt's signal; moving a phase later never needs a second timer; a new attempt gets a
// fresh phase; a wait ends the moment its attempt is aborted.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { RequestAbort } from '../../src/resilience/request-abort.js';
import { AttemptGuard, firstTokenTimeout, headersTimeout, idleTimeout, RequestTimer, sleep } from '../../src/resilience/timeouts.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function request(totalMs = 600_000) {
  const abort = new RequestAbort();
  const timer = new RequestTimer(abort, totalMs);
  return { abort, timer, guard: () => new AttemptGuard(abort, timer) };
}

const codeOf = (signal: AbortSignal) => (signal.aborted ? (signal.reason as GatewayError).code : undefined);

describe('the request timer', () => {
  it.each([
    ['headers', headersTimeout, 'upstream_headers_timeout'],
    ['first token', firstTokenTimeout, 'upstream_first_token_timeout'],
    ['idle', idleTimeout, 'upstream_idle_timeout'],
  ] as const)('the %s phase ends at its time and aborts the attempt with its error', (_name, error, code) => {
    const r = request();
    const guard = r.guard();
    guard.arm(30_000, error);
    vi.advanceTimersByTime(29_999);
    expect(guard.cancel.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(codeOf(guard.cancel.signal)).toBe(code);
    expect(r.abort.stopped).toBe(false); // only the attempt ended; a fallback may still be tried
  });

  it('the deadline ends the request, and caps a phase that would end after it', () => {
    const r = request(150);
    const guard = r.guard();
    guard.arm(1_000, headersTimeout);
    vi.advanceTimersByTime(149);
    expect(guard.cancel.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(codeOf(guard.cancel.signal)).toBe('gateway_timeout');
    expect(r.abort.stopped).toBe(true);
    expect((r.abort.reason as GatewayError).code).toBe('gateway_timeout');
  });

  it('the deadline fires while the attempt is paused (a slow reader does not stop the total)', () => {
    const r = request(500);
    const guard = r.guard();
    guard.arm(100, idleTimeout);
    guard.pause();
    vi.advanceTimersByTime(499);
    expect(guard.cancel.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(codeOf(guard.cancel.signal)).toBe('gateway_timeout');
  });

  it('kicks move the idle period later on the one timer, which then fires at the last kick plus the period', () => {
    const r = request();
    const guard = r.guard();
    guard.arm(100, idleTimeout);
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(60);
      guard.kick();
      expect(vi.getTimerCount()).toBe(1);
    }
    // 600 ms in, six idle periods after the arm: still alive, 100 ms after the last kick it is not.
    vi.advanceTimersByTime(99);
    expect(guard.cancel.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(codeOf(guard.cancel.signal)).toBe('upstream_idle_timeout');
  });

  it('a phase moved earlier re-arms the timer (headers after a long deadline)', () => {
    const r = request(600_000);
    const guard = r.guard();
    guard.arm(50, headersTimeout);
    vi.advanceTimersByTime(50);
    expect(codeOf(guard.cancel.signal)).toBe('upstream_headers_timeout');
  });

  it('a pause longer than the period, then a kick: the period counts from the kick', () => {
    const r = request();
    const guard = r.guard();
    guard.arm(100, idleTimeout);
    guard.pause();
    vi.advanceTimersByTime(300);
    expect(guard.cancel.signal.aborted).toBe(false);
    guard.kick();
    vi.advanceTimersByTime(99);
    expect(guard.cancel.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(codeOf(guard.cancel.signal)).toBe('upstream_idle_timeout');
  });

  it('a stream answered at once uses one timer from the headers to the end, and none after', () => {
    const r = request();
    const guard = r.guard();
    guard.arm(30_000, headersTimeout);
    vi.advanceTimersByTime(5);
    guard.arm(30_000, firstTokenTimeout);
    vi.advanceTimersByTime(5);
    guard.arm(30_000, idleTimeout);
    guard.pause();
    for (let i = 0; i < 5; i++) {
      guard.kick();
      vi.advanceTimersByTime(1);
      guard.pause();
    }
    expect(vi.getTimerCount()).toBe(1);
    guard.dispose();
    r.timer.dispose();
    expect(vi.getTimerCount()).toBe(0);
    expect(guard.cancel.signal.aborted).toBe(false);
  });

  it('a new attempt after a timeout gets its own signal and a fresh phase', () => {
    const r = request();
    const first = r.guard();
    expect(first.cancel.signal).toBe(r.abort.signal); // the first attempt borrows the request's signal
    first.arm(100, headersTimeout);
    vi.advanceTimersByTime(100);
    expect(codeOf(first.cancel.signal)).toBe('upstream_headers_timeout');
    first.dispose();

    const second = r.guard();
    expect(second.cancel.signal).not.toBe(first.cancel.signal);
    expect(second.cancel.signal.aborted).toBe(false);
    second.arm(100, headersTimeout);
    vi.advanceTimersByTime(99);
    expect(second.cancel.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(codeOf(second.cancel.signal)).toBe('upstream_headers_timeout');
  });

  it('a disposed attempt is no longer timed: its phase ending later aborts nothing', () => {
    const r = request();
    const guard = r.guard();
    guard.arm(100, headersTimeout);
    guard.dispose();
    vi.advanceTimersByTime(1_000);
    expect(guard.cancel.signal.aborted).toBe(false);
  });

  it('an attempt that is over is not aborted when the request ends later (as when it was unlinked)', () => {
    const r = request();
    const first = r.guard();
    first.abort(new Error('503'));
    first.dispose();
    const second = r.guard(); // a signal of its own: the request's went with the first attempt
    second.dispose();
    r.abort.abort(new Error('client gone'));
    expect(second.cancel.signal.aborted).toBe(false);
  });
});

describe('waits', () => {
  it('a race ends with the abort reason at once, though the work never settles', async () => {
    const r = request();
    const guard = r.guard();
    const waiting = guard.race(new Promise<never>(() => {}));
    const reason = new GatewayError({ status: 499, message: 'gone', code: 'client_closed' });
    r.abort.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(guard.cancel.signal.reason).toBe(reason);
  });

  it('a race on an aborted attempt rejects without waiting', async () => {
    const r = request();
    const guard = r.guard();
    guard.arm(10, headersTimeout);
    vi.advanceTimersByTime(10);
    await expect(guard.race(Promise.resolve(1))).rejects.toMatchObject({ code: 'upstream_headers_timeout' });
  });

  it('a race passes the work through while nothing aborts', async () => {
    const r = request();
    await expect(r.guard().race(Promise.resolve('ok'))).resolves.toBe('ok');
  });

  it('the back-off sleep ends when the request stops, and not otherwise', async () => {
    const r = request();
    let slept = false;
    void sleep(1_000, r.abort).then(() => (slept = true));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(slept).toBe(true);
    const stopped = sleep(1_000, r.abort);
    const reason = new Error('client gone');
    r.abort.abort(reason);
    await expect(stopped).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });
});
