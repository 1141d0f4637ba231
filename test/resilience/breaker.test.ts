// Circuit breaking: ejection after consecutive failures, skipping, one probe, recovery.
import { describe, expect, it } from 'vitest';
import { batchesOf } from '../../src/backends/types.js';
import { breakerSchema } from '../../src/config/resilience.js';
import { GatewayError } from '../../src/errors.js';
import { CircuitBreaker } from '../../src/resilience/breaker.js';
import { callWithResilience } from '../../src/resilience/call.js';
import { ResilienceState } from '../../src/resilience/state.js';
import { callFor, consume, context, fakes, fastPolicy, targets } from './helpers.js';

const down = () => new GatewayError({ status: 503, message: 'Service unavailable.' });

describe('CircuitBreaker', () => {
  const config = breakerSchema.parse({ consecutiveFailures: 3, cooldownMs: 1000, probeIntervalMs: 200 });

  it('ejects after consecutive failures only; a success in between resets the count', () => {
    let now = 0;
    const b = new CircuitBreaker(() => now);
    b.acquire(config)!.failure();
    b.acquire(config)!.failure();
    b.acquire(config)!.success();
    b.acquire(config)!.failure();
    b.acquire(config)!.failure();
    expect(b.state).toBe('closed');
    b.acquire(config)!.failure();
    expect(b.state).toBe('open');
    expect(b.acquire(config)).toBeUndefined();
    expect(b.waitMs()).toBe(1000);
    now = 999;
    expect(b.acquire(config)).toBeUndefined();
  });

  it('after the cooldown lets exactly one probe through; a failed probe ejects for the probe interval', () => {
    let now = 0;
    const b = new CircuitBreaker(() => now);
    for (let i = 0; i < 3; i++) b.acquire(config)!.failure();
    now = 1000;
    expect(b.state).toBe('half-open');
    const probe = b.acquire(config)!;
    expect(probe.probe).toBe(true);
    expect(b.acquire(config)).toBeUndefined();
    probe.failure();
    expect(b.waitMs()).toBe(200);
    now = 1200;
    const second = b.acquire(config)!;
    second.success();
    expect(b.state).toBe('closed');
    expect(b.acquire(config)?.probe).toBe(false);
  });

  it('a probe that ends without a verdict frees the slot for the next one', () => {
    let now = 0;
    const b = new CircuitBreaker(() => now);
    for (let i = 0; i < 3; i++) b.acquire(config)!.failure();
    now = 1000;
    b.acquire(config)!.release();
    expect(b.acquire(config)?.probe).toBe(true);
  });
});

describe('an ejected primary', () => {
  it('down for a while then healthy: the fallback serves the outage without touching the primary, which is back within the probe interval', async () => {
    let now = 0;
    const state = new ResilienceState({ now: () => now });
    const policy = fastPolicy({ retries: { maxAttempts: 1 }, breaker: { consecutiveFailures: 2, cooldownMs: 1000, probeIntervalMs: 300 } });
    const { primary, fallback } = fakes();
    const route = targets([primary], [fallback]);
    const ask = () => callWithResilience({ targets: route, policy, ctx: context(), state, makeCall: callFor(false) });

    primary.script = { error: down() };
    for (let i = 0; i < 2; i++) expect((await ask()).answeredBy).toBe(1);
    expect(primary.calls).toHaveLength(2);

    // Ejected: every request goes straight to the fallback, the primary is not called.
    for (let t = 0; t < 10; t++) {
      now += 90;
      const result = await ask();
      expect(result.answeredBy).toBe(1);
      expect(result.attempts[0]).toMatchObject({ target: 0, outcome: 'skipped' });
    }
    expect(primary.calls).toHaveLength(2);

    // Cooldown over while still down: one probe fails and ejects it for the probe interval.
    now = 1000;
    expect((await ask()).answeredBy).toBe(1);
    expect(primary.calls).toHaveLength(3);
    now = 1200;
    await ask();
    expect(primary.calls).toHaveLength(3);

    // It recovers; within one probe interval the primary answers again, and keeps answering.
    const recoveredAt = 1250;
    now = recoveredAt;
    primary.script = {};
    let servedBy = 1;
    while (servedBy === 1) {
      expect(now - recoveredAt).toBeLessThanOrEqual(policy.breaker.probeIntervalMs);
      servedBy = (await ask()).answeredBy;
      if (servedBy === 1) now += 25;
    }
    for (let i = 0; i < 3; i++) expect((await ask()).answeredBy).toBe(0);
    expect(primary.calls).toHaveLength(3 + 1 + 3);
  });

  it('while the one probe is in flight, other requests go to the fallback', async () => {
    let now = 0;
    const state = new ResilienceState({ now: () => now });
    const policy = fastPolicy({ retries: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1, cooldownMs: 100 } });
    const { primary, fallback } = fakes();
    const route = targets([primary], [fallback]);
    primary.queue = [{ error: down() }, { headersDelayMs: 100 }];
    await callWithResilience({ targets: route, policy, ctx: context(), state, makeCall: callFor(false) });
    now = 100;
    const probe = callWithResilience({ targets: route, policy, ctx: context(), state, makeCall: callFor(false) });
    const other = await callWithResilience({ targets: route, policy, ctx: context(), state, makeCall: callFor(false) });
    expect(other.answeredBy).toBe(1);
    expect((await probe).answeredBy).toBe(0);
    expect(primary.calls).toHaveLength(2);
  });

  it('every target ejected: a fast 503 with a retry-after, and no upstream call', async () => {
    let now = 0;
    const state = new ResilienceState({ now: () => now });
    const policy = fastPolicy({ retries: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1, cooldownMs: 5000 } });
    const { primary } = fakes();
    primary.script = { error: down() };
    await expect(callWithResilience({ targets: targets([primary]), policy, ctx: context(), state, makeCall: callFor(false) })).rejects.toMatchObject({ status: 503 });
    now = 1000;
    await expect(callWithResilience({ targets: targets([primary]), policy, ctx: context(), state, makeCall: callFor(false) })).rejects.toMatchObject({
      status: 503,
      code: 'upstream_circuit_open',
      headers: { 'retry-after': '4' },
    });
    expect(primary.calls).toHaveLength(1);
  });

  it('a stream abandoned before it is read releases its upstream and its probe', async () => {
    let now = 0;
    const state = new ResilienceState({ now: () => now });
    const policy = fastPolicy({ retries: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1, cooldownMs: 100 } });
    const { primary, fallback } = fakes();
    primary.queue = [{ error: down() }];
    const route = targets([primary], [fallback]);
    await callWithResilience({ targets: route, policy, ctx: context(), state, makeCall: callFor(true) });
    now = 100;
    const probe = await callWithResilience({ targets: route, policy, ctx: context(), state, makeCall: callFor(true) });
    expect(probe.answeredBy).toBe(0);
    if (probe.type !== 'stream') throw new Error('expected a stream');
    await batchesOf(probe)[Symbol.asyncIterator]().return?.();
    await expect.poll(() => primary.aborted).toBe(1);
    // The probe slot is free again: the next request may probe the primary instead of being skipped.
    expect((await callWithResilience({ targets: route, policy, ctx: context(), state, makeCall: callFor(true) })).answeredBy).toBe(0);
  });

  it('4xx answers prove the target alive: they never eject it', async () => {
    const state = new ResilienceState();
    const policy = fastPolicy({ breaker: { consecutiveFailures: 1 } });
    const { primary } = fakes();
    primary.script = { error: new GatewayError({ status: 400, message: 'bad', code: 'invalid_value' }) };
    for (let i = 0; i < 3; i++) await expect(callWithResilience({ targets: targets([primary]), policy, ctx: context(), state, makeCall: callFor(false) })).rejects.toMatchObject({ status: 400 });
    primary.script = {};
    const { text } = await consume(await callWithResilience({ targets: targets([primary]), policy, ctx: context(), state, makeCall: callFor(false) }));
    expect(text).toBe('Hello from fake.');
  });

  it('streams cut after they started count as failures of their target', async () => {
    const state = new ResilienceState();
    const policy = fastPolicy({ breaker: { consecutiveFailures: 2, cooldownMs: 60_000 } });
    const { primary, fallback } = fakes();
    primary.script = { reply: 'a b c', failAfter: 1, streamError: new GatewayError({ status: 502, message: 'cut' }) };
    for (let i = 0; i < 2; i++) {
      const result = await callWithResilience({ targets: targets([primary], [fallback]), policy, ctx: context(), state, makeCall: callFor(true) });
      expect((await consume(result)).error).toBeDefined();
    }
    const next = await callWithResilience({ targets: targets([primary], [fallback]), policy, ctx: context(), state, makeCall: callFor(true) });
    expect(next.answeredBy).toBe(1);
    expect(primary.calls).toHaveLength(2);
  });
});
