// Failure handling around the Backend interface, from outside: the primary with retries, then the
// fallbacks in order, skipping ejected targets; a stream counts as answered only at its first
// content chunk, so anything before that can still be retried or fall back.
import type { CallContext, ChatCall, ChatResult, StreamResult, Usage } from '../backends/types.js';
import type { ResilienceConfig } from '../config/resilience.js';
import { GatewayError } from '../errors.js';
import { runAttempt, type Answer, type ResilienceTarget, type Send, type StreamAnswer } from './attempt.js';
import { prefillCall } from './chunks.js';
import { cutError, relayBatches, type Continuation } from './relay.js';
import { classifyFailure, isTargetFailure, retryDelayMs, type FailureKind } from './retry-policy.js';
import { ResilienceState } from './state.js';
import { Deadline, sleep } from './timeouts.js';

export type { ResilienceTarget } from './attempt.js';

export interface AttemptRecord {
  /** Index of the target in `targets` (0 = primary). */
  target: number;
  /** 1 for the first attempt on that target, 2 for its first retry, … */
  attempt: number;
  outcome: 'answered' | 'failed' | 'skipped';
  /** Error code (or type) of a failed attempt; 'circuit_open' for a skipped one. */
  error?: string;
  /** A continuation of a cut stream from a prefill. */
  continuation?: boolean;
}

export interface ResilienceHooks {
  onAttempt?(info: { target: number; attempt: number; continuation: boolean }): void;
  onRetry?(info: { target: number; attempt: number; delayMs: number; error: unknown }): void;
  onFallback?(info: { from: number; to: number; reason: FailureKind | 'circuit_open' | 'retries_exhausted' | 'continuation'; error?: unknown }): void;
}

interface CommonOptions extends ResilienceHooks {
  /** The primary first, then the fallbacks in order. */
  targets: readonly ResilienceTarget[];
  policy: ResilienceConfig;
  ctx: CallContext;
  /** Breakers and retry budgets shared across requests; a throwaway one when omitted. */
  state?: ResilienceState;
  random?: () => number;
}

export type CallWithResilienceOptions = CommonOptions &
  (
    | { /** The call for a target (the target's `model`, when set, replaces `call.model`). */ makeCall(target: ResilienceTarget, index: number): ChatCall; send?: never }
    | { /** Or: how to call through a backend, for callers that build the call themselves (the server). */ send: Send; makeCall?: never }
  );

export type ResilientResult = ChatResult & {
  /** Index of the target that answered (changes if a continuation took over a stream). */
  readonly answeredBy: number;
  readonly target: ResilienceTarget;
  readonly attempts: readonly AttemptRecord[];
};

const targetKey = (t: ResilienceTarget) => `${t.backend.name}/${t.model ?? '*'}`;

const errorName = (err: unknown): string =>
  err instanceof GatewayError ? (err.code ?? err.type) : ((err as { code?: string })?.code ?? 'internal_error');

function sumUsage(results: readonly ChatResult[]): Usage | undefined {
  let total: Usage | undefined;
  for (const r of results) {
    const u = r.type === 'json' ? r.usage : r.usage();
    if (!u) continue;
    total ??= { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
    total.input += u.input;
    total.output += u.output;
    total.cacheRead += u.cacheRead;
    total.cacheWrite += u.cacheWrite;
    total.reasoning += u.reasoning;
  }
  return total;
}

function allEjected(waitMs: number): GatewayError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new GatewayError({
    status: 503,
    code: 'upstream_circuit_open',
    message: 'Every upstream for this route is failing and temporarily ejected; retry later.',
    headers: { 'retry-after': String(seconds) },
  });
}

export async function callWithResilience(options: CallWithResilienceOptions): Promise<ResilientResult> {
  const { targets, policy, ctx } = options;
  if (targets.length === 0) throw new Error('callWithResilience: `targets` needs at least the primary');
  const state = options.state ?? new ResilienceState();
  const random = options.random ?? Math.random;
  const deadline = new Deadline(policy.timeouts.totalMs);
  const signals = [ctx.signal, deadline];
  const consumed: ChatResult[] = [];
  const attempts: AttemptRecord[] = [];
  const stopped = () => ctx.signal.aborted || deadline.aborted;
  const stopReason = (err: unknown) => (ctx.signal.aborted ? (ctx.signal.reason ?? err) : deadline.aborted ? deadline.reason : err);
  const label = (i: number) => `${targets[i]!.backend.name}/${targets[i]!.model ?? '*'}`;
  const onRetry: NonNullable<ResilienceHooks['onRetry']> = (info) => {
    ctx.logger.warn({ target: label(info.target), attempt: info.attempt, delayMs: Math.round(info.delayMs), error: errorName(info.error) }, 'upstream failed; retrying');
    options.onRetry?.(info);
  };
  const onFallback: NonNullable<ResilienceHooks['onFallback']> = (info) => {
    ctx.logger.warn({ from: label(info.from), to: label(info.to), reason: info.reason, error: info.error === undefined ? undefined : errorName(info.error) }, 'falling back');
    options.onFallback?.(info);
  };
  const sendFor = (target: ResilienceTarget, index: number): Send =>
    options.send ?? ((backend, attemptCtx) => backend.chat(options.makeCall!(target, index), attemptCtx));

  /** One attempt on `targets[index]` under a breaker ticket; records it and settles the ticket. */
  async function attempt(index: number, n: number, send: Send, continuation = false): Promise<Answer | undefined> {
    const target = targets[index]!;
    const ticket = state.breaker(targetKey(target)).acquire(policy.breaker);
    if (!ticket) {
      attempts.push({ target: index, attempt: n, outcome: 'skipped', error: 'circuit_open', continuation });
      return undefined;
    }
    if (n === 1 && !continuation) state.budget(targetKey(target)).recordRequest(policy.retries.budget);
    options.onAttempt?.({ target: index, attempt: n, continuation });
    try {
      const answer = await runAttempt({ target, send, ctx, signals, timeouts: policy.timeouts, ticket, consumed });
      attempts.push({ target: index, attempt: n, outcome: 'answered', continuation });
      return answer;
    } catch (err) {
      attempts.push({ target: index, attempt: n, outcome: 'failed', error: errorName(stopReason(err)), continuation });
      if (!stopped() && isTargetFailure(classifyFailure(err))) ticket.failure();
      else ticket.release();
      throw stopReason(err);
    }
  }

  async function continueFrom(input: { after: number; call: ChatCall; sent: string; error: unknown }): Promise<Continuation> {
    let tried = false;
    for (let j = input.after + 1; j < targets.length; j++) {
      const target = targets[j]!;
      if (!target.acceptsPrefill || stopped()) continue;
      const { call, trimmed } = prefillCall(input.call, input.sent);
      onFallback({ from: input.after, to: j, reason: 'continuation', error: input.error });
      try {
        const answer = await attempt(j, 1, (backend, attemptCtx) => backend.chat(call, attemptCtx), true);
        if (!answer) continue;
        tried = true;
        if (answer.type !== 'stream') throw new GatewayError({ status: 502, message: 'The continuation did not stream.', code: 'upstream_error' });
        current = { index: j, result: answer.result };
        return { answer, index: j, trimmed };
      } catch (err) {
        tried = true;
        if (stopped()) throw err;
      }
    }
    if (stopped()) throw stopReason(input.error);
    throw cutError(input.error, tried ? 'the fallbacks asked to continue it failed too' : 'no fallback able to continue it is available');
  }

  let current: { index: number; result: ChatResult } | undefined;
  let lastError: unknown;
  let openWaitMs = Number.POSITIVE_INFINITY;
  try {
    for (let i = 0; i < targets.length && current === undefined; i++) {
      const target = targets[i]!;
      const key = targetKey(target);
      const send = sendFor(target, i);
      for (let n = 1; ; n++) {
        let answer: Answer | undefined;
        try {
          answer = await attempt(i, n, send);
        } catch (err) {
          if (stopped()) throw err;
          lastError = err;
          const kind = classifyFailure(err);
          if (kind === 'final') throw err;
          const next = i + 1 < targets.length ? i + 1 : -1;
          if (kind !== 'retryable') {
            if (next >= 0) onFallback({ from: i, to: next, reason: kind, error: err });
            break;
          }
          const delayMs = n < policy.retries.maxAttempts ? retryDelayMs(err, n, policy.retries, random) : undefined;
          if (delayMs === undefined || delayMs >= deadline.remainingMs() || !state.budget(key).tryAcquire(policy.retries.budget)) {
            if (next >= 0) onFallback({ from: i, to: next, reason: 'retries_exhausted', error: err });
            break;
          }
          onRetry({ target: i, attempt: n + 1, delayMs, error: err });
          await sleep(delayMs, ctx.signal).catch((reason) => {
            throw stopReason(reason);
          });
          continue;
        }
        if (answer) {
          current = { index: i, result: answer.result };
          if (answer.type === 'json') {
            deadline.dispose();
            return Object.assign(answer.result, { answeredBy: i, target, attempts });
          }
          return streamed(answer, i);
        }
        // Ejected: skip straight to the next target.
        openWaitMs = Math.min(openWaitMs, state.breaker(key).waitMs());
        if (i + 1 < targets.length) onFallback({ from: i, to: i + 1, reason: 'circuit_open' });
        break;
      }
    }
    throw lastError ?? allEjected(openWaitMs);
  } catch (err) {
    deadline.dispose();
    throw err;
  }

  function streamed(first: StreamAnswer, index: number): ResilientResult {
    const continuable = targets.some((t, j) => j > index && t.acceptsPrefill);
    const batches = relayBatches({
      first,
      firstIndex: index,
      continuable,
      hasFallbacks: index + 1 < targets.length,
      stopped,
      continueFrom,
      onCut: (answer, err) => {
        if (!stopped() && isTargetFailure(classifyFailure(err))) answer.ticket.failure();
        else answer.ticket.release();
      },
      usage: () => sumUsage(consumed),
      onEnd: () => deadline.dispose(),
    });
    const result: StreamResult & ResilientResult = {
      type: 'stream',
      status: first.result.status,
      headers: first.result.headers,
      get model() {
        return current!.result.model;
      },
      batches,
      usage: () => sumUsage(consumed),
      get answeredBy() {
        return current!.index;
      },
      get target() {
        return targets[current!.index]!;
      },
      attempts,
    };
    return result;
  }
}
