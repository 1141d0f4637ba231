// Fault injection before the first byte: retries, timeouts, fallbacks, budget, abort.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { callWithResilience } from '../../src/resilience/call.js';
import { ResilienceState } from '../../src/resilience/state.js';
import { callFor, consume, context, fakes, fastPolicy, targets } from './helpers.js';

const rateLimited = (headers: Record<string, string> = {}) => new GatewayError({ status: 429, message: 'Rate limit reached.', code: 'rate_limit_exceeded', headers });
const unavailable = () => new GatewayError({ status: 503, message: 'Service unavailable.', code: 'upstream_unavailable' });
const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

describe('retries on the same target', () => {
  it('waits the retry-after of a 429 before the second attempt', async () => {
    const { primary } = fakes();
    primary.queue = [{ error: rateLimited({ 'retry-after': '2' }) }];
    const result = await callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx: context(), makeCall: callFor(false) });
    expect(primary.calls).toHaveLength(2);
    expect(primary.callTimes[1]! - primary.callTimes[0]!).toBeGreaterThanOrEqual(1800);
    expect(result.answeredBy).toBe(0);
    expect((await consume(result)).text).toBe('Hello from fake.');
  });

  it('prefers retry-after-ms to retry-after', async () => {
    const { primary } = fakes();
    primary.queue = [{ error: rateLimited({ 'retry-after': '30', 'retry-after-ms': '150' }) }];
    const t0 = performance.now();
    await callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx: context(), makeCall: callFor(false) });
    expect(primary.callTimes[1]! - primary.callTimes[0]!).toBeGreaterThanOrEqual(140);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('does not wait for a retry-after beyond the cap: the fallback answers at once', async () => {
    const { primary, fallback } = fakes();
    primary.script = { error: rateLimited({ 'retry-after': '60' }) };
    const t0 = performance.now();
    const result = await callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy({ retries: { retryAfterCapMs: 1000 } }), ctx: context(), makeCall: callFor(false) });
    expect(result.answeredBy).toBe(1);
    expect(primary.calls).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it.each([
    ['429', rateLimited],
    ['503', unavailable],
  ])('persistent %s: bounded attempts on the primary, then the fallback answers', async (_name, error) => {
    const { primary, fallback } = fakes();
    primary.script = { error: error() };
    const retries: number[] = [];
    const seen: string[] = [];
    const result = await callWithResilience({
      targets: targets([primary], [fallback, { model: 'gpt-4o-mini' }]),
      policy: fastPolicy({ retries: { maxAttempts: 3 } }),
      ctx: context(),
      makeCall: callFor(false),
      onAttempt: (a) => seen.push(`attempt ${a.target}.${a.attempt}`),
      onRetry: (r) => retries.push(r.attempt),
      onFallback: (f) => seen.push(`fallback ${f.from}->${f.to} ${f.reason}`),
    });
    expect(seen).toEqual(['attempt 0.1', 'attempt 0.2', 'attempt 0.3', 'fallback 0->1 retries_exhausted', 'attempt 1.1']);
    expect(primary.calls).toHaveLength(3);
    expect(retries).toEqual([2, 3]);
    expect(fallback.calls).toHaveLength(1);
    expect(fallback.calls[0]!.model).toBe('gpt-4o-mini');
    expect(result.answeredBy).toBe(1);
    expect(result.model).toBe('gpt-4o-mini-fake');
    expect(result.attempts.map((a) => [a.target, a.outcome])).toEqual([[0, 'failed'], [0, 'failed'], [0, 'failed'], [1, 'answered']]);
  });

  it('persistent failure without a fallback: the last error, after bounded attempts', async () => {
    const { primary } = fakes();
    primary.script = { error: unavailable() };
    await expect(callWithResilience({ targets: targets([primary]), policy: fastPolicy({ retries: { maxAttempts: 2 } }), ctx: context(), makeCall: callFor(false) })).rejects.toMatchObject({ status: 503 });
    expect(primary.calls).toHaveLength(2);
  });

  it('500 once, then healthy: the same target answers', async () => {
    const { primary, fallback } = fakes();
    primary.queue = [{ error: new GatewayError({ status: 500, message: 'boom' }) }];
    const result = await callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy(), ctx: context(), makeCall: callFor(true) });
    expect(result.answeredBy).toBe(0);
    expect(primary.calls).toHaveLength(2);
    expect(fallback.calls).toHaveLength(0);
    expect((await consume(result)).text).toBe('Hello from fake.');
  });

  it('a connection reset before the headers is retried', async () => {
    const { primary } = fakes();
    primary.queue = [{ error: reset() }, { error: reset() }];
    const result = await callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx: context(), makeCall: callFor(true) });
    expect(primary.calls).toHaveLength(3);
    expect((await consume(result)).text).toBe('Hello from fake.');
  });

  it('a stream that fails before its first content chunk is retried, and the client sees one clean answer', async () => {
    const { primary } = fakes();
    primary.queue = [{ reply: 'a b c', failAfter: 0, streamError: new GatewayError({ status: 502, message: 'cut', code: 'upstream_stream_interrupted' }) }];
    const result = await callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx: context(), makeCall: callFor(true) });
    const { text, chunks, error } = await consume(result);
    expect(error).toBeUndefined();
    expect(text).toBe('Hello from fake.');
    expect(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant')).toHaveLength(1);
    expect(primary.calls).toHaveLength(2);
  });

  it('an unexpected error (a bug, not the network) is neither retried nor sent to a fallback', async () => {
    const { primary, fallback } = fakes();
    primary.script = { error: new TypeError('cannot read properties of undefined') };
    await expect(callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy(), ctx: context(), makeCall: callFor(false) })).rejects.toBeInstanceOf(TypeError);
    expect(primary.calls).toHaveLength(1);
    expect(fallback.calls).toHaveLength(0);
  });
});

describe('timeouts before the answer go to the fallback, without a retry', () => {
  it('no response at all: bounded by the headers timeout, then the fallback answers', async () => {
    const { primary, fallback } = fakes();
    primary.script = { hang: true };
    const t0 = performance.now();
    const result = await callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy({ timeouts: { headersMs: 150 } }), ctx: context(), makeCall: callFor(true) });
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(elapsed).toBeLessThan(1000);
    expect(primary.calls).toHaveLength(1);
    expect(primary.aborted).toBe(0); // it never produced a stream; the abort reached its pending call instead
    expect(result.answeredBy).toBe(1);
    expect(result.attempts[0]).toMatchObject({ target: 0, outcome: 'failed', error: 'upstream_headers_timeout' });
    expect((await consume(result)).text).toBe('Hello from fake.');
  });

  it('no response to a non-streamed call: bounded by the response timeout', async () => {
    const { primary, fallback } = fakes();
    primary.script = { hang: true };
    const result = await callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy({ timeouts: { responseMs: 100 } }), ctx: context(), makeCall: callFor(false) });
    expect(primary.calls).toHaveLength(1);
    expect(result.answeredBy).toBe(1);
  });

  it('no response and no fallback: a 504 after one attempt', async () => {
    const { primary } = fakes();
    primary.script = { hang: true };
    await expect(callWithResilience({ targets: targets([primary]), policy: fastPolicy({ timeouts: { headersMs: 50 } }), ctx: context(), makeCall: callFor(true) })).rejects.toMatchObject({ status: 504, code: 'upstream_headers_timeout' });
    expect(primary.calls).toHaveLength(1);
  });

  it('a slow first token: the fallback answers, the primary is not retried and its stream is released', async () => {
    const { primary, fallback } = fakes();
    primary.script = { firstTokenDelayMs: 1000 };
    const t0 = performance.now();
    const result = await callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy({ timeouts: { firstTokenMs: 100 } }), ctx: context(), makeCall: callFor(true) });
    expect(performance.now() - t0).toBeLessThan(800);
    expect(primary.calls).toHaveLength(1);
    expect(result.answeredBy).toBe(1);
    const { text, chunks } = await consume(result);
    expect(text).toBe('Hello from fake.');
    expect(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant')).toHaveLength(1);
    await expect.poll(() => primary.aborted).toBe(1);
  });

  it('the total deadline ends everything with a 504', async () => {
    const { primary, fallback } = fakes();
    primary.script = { error: unavailable() };
    fallback.script = { hang: true };
    await expect(
      callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy({ timeouts: { totalMs: 200, headersMs: 5000 }, retries: { maxAttempts: 1 } }), ctx: context(), makeCall: callFor(true) }),
    ).rejects.toMatchObject({ status: 504, code: 'gateway_timeout' });
  });
});

describe('errors that another attempt cannot fix', () => {
  const contextLength = () => new GatewayError({ status: 400, message: "This model's maximum context length is 8192 tokens.", code: 'context_length_exceeded', param: 'messages' });
  const contentFilter = () => new GatewayError({ status: 400, message: 'The prompt was filtered.', code: 'content_filter' });

  it('context length exceeded: one attempt on that model, then the larger-context fallback', async () => {
    const { primary, fallback } = fakes();
    primary.script = { error: contextLength() };
    const result = await callWithResilience({ targets: targets([primary], [fallback, { model: 'gpt-4.1' }]), policy: fastPolicy(), ctx: context(), makeCall: callFor(false) });
    expect(primary.calls).toHaveLength(1);
    expect(fallback.calls.map((c) => c.model)).toEqual(['gpt-4.1']);
    expect(result.answeredBy).toBe(1);
  });

  it('context length exceeded without a fallback: the 400 after exactly one attempt', async () => {
    const { primary } = fakes();
    primary.script = { error: contextLength() };
    await expect(callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx: context(), makeCall: callFor(false) })).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' });
    expect(primary.calls).toHaveLength(1);
  });

  it('content filter: exactly one attempt, and no fallback shopping for a laxer model', async () => {
    const { primary, fallback } = fakes();
    primary.script = { error: contentFilter() };
    await expect(callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy(), ctx: context(), makeCall: callFor(true) })).rejects.toMatchObject({ status: 400, code: 'content_filter' });
    expect(primary.calls).toHaveLength(1);
    expect(fallback.calls).toHaveLength(0);
  });
});

describe('retry budget', () => {
  it('caps retries at the ratio of requests under sustained failure', async () => {
    const { primary } = fakes();
    primary.script = { error: unavailable() };
    const state = new ResilienceState();
    const policy = fastPolicy({ retries: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, budget: { ratio: 0.2, minPerWindow: 2, windowMs: 60_000 } } });
    for (let i = 0; i < 20; i++)
      await expect(callWithResilience({ targets: targets([primary]), policy, ctx: context(), state, makeCall: callFor(false) })).rejects.toMatchObject({ status: 503 });
    // Without a budget: 20 × 3 = 60 calls. With it: 20 requests + at most 20 % of them as retries.
    expect(primary.calls.length).toBeGreaterThanOrEqual(20 + 2);
    expect(primary.calls.length).toBeLessThanOrEqual(20 + 4);
  });

  it('the floor allows retries when traffic is low', async () => {
    const { primary } = fakes();
    primary.queue = [{ error: unavailable() }];
    const policy = fastPolicy({ retries: { budget: { ratio: 0.2, minPerWindow: 1, windowMs: 60_000 } } });
    const result = await callWithResilience({ targets: targets([primary]), policy, ctx: context(), state: new ResilienceState(), makeCall: callFor(false) });
    expect(result.answeredBy).toBe(0);
    expect(primary.calls).toHaveLength(2);
  });
});

describe('client abort', () => {
  it('stops retries at once', async () => {
    const { primary, fallback } = fakes();
    primary.script = { error: rateLimited({ 'retry-after-ms': '2000' }) };
    const controller = new AbortController();
    const reason = new GatewayError({ status: 499, message: 'Client closed the request.', code: 'client_closed' });
    setTimeout(() => controller.abort(reason), 50);
    const t0 = performance.now();
    await expect(callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy(), ctx: context(controller.signal), makeCall: callFor(false) })).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 100));
    expect(primary.calls).toHaveLength(1);
    expect(fallback.calls).toHaveLength(0);
  });

  it('aborts a pending upstream call at once and tries nothing else', async () => {
    const { primary, fallback } = fakes();
    primary.script = { hang: true };
    const controller = new AbortController();
    setTimeout(() => controller.abort(new GatewayError({ status: 499, message: 'gone', code: 'client_closed' })), 30);
    const t0 = performance.now();
    await expect(callWithResilience({ targets: targets([primary], [fallback]), policy: fastPolicy(), ctx: context(controller.signal), makeCall: callFor(true) })).rejects.toMatchObject({ code: 'client_closed' });
    expect(performance.now() - t0).toBeLessThan(300);
    expect(fallback.calls).toHaveLength(0);
  });

  it('an already aborted request calls nothing', async () => {
    const { primary } = fakes();
    const controller = new AbortController();
    controller.abort(new GatewayError({ status: 499, message: 'gone', code: 'client_closed' }));
    await expect(callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx: context(controller.signal), makeCall: callFor(false) })).rejects.toMatchObject({ code: 'client_closed' });
    expect(primary.calls).toHaveLength(0);
  });
});
