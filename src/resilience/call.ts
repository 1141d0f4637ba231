// Failure handling around the Backend interface, from outside: the primary with retries, then the
// fallbacks in order, skipping ejected targets; a stream counts as answered only at its first
// content chunk, so anything before that can still be retried or fall back.
import { isLastBatch, type CallContext, type ChatCall, type ChatResult, type StreamChunk, type StreamResult, type Usage } from '../backends/types.js';
import type { ResilienceConfig } from '../config/resilience.js';
import { GatewayError } from '../errors.js';
import { runAttempt, type Answer, type ResilienceTarget, type Send, type StreamAnswer } from './attempt.js';
import { prefillCall } from './chunks.js';
import { cutError, relayBatches, settleAnswered, type Continuation, type RelayOptions } from './relay.js';
import { classifyFailure, isTargetFailure, retryDelayMs, type FailureKind } from './retry-policy.js';
import { RequestAbort } from './request-abort.js';
import { ResilienceState } from './state.js';
import { RequestTimer, sleep } from './timeouts.js';

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
  /** The request's abort controller, with `ctx = abort.callContext(…)`: the first attempt borrows it
   * instead of making one of its own (see request-abort.ts). Without it, the wrapper follows `ctx.signal`. */
  abort?: RequestAbort;
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
  /** A stream's whole answer, when the upstream delivered its end before the stream was first read
   * (see ResilientStream.whole); undefined otherwise. */
  whole?(): StreamChunk[] | undefined;
  readonly target: ResilienceTarget;
  readonly attempts: readonly AttemptRecord[];
};

const targetKey = (t: ResilienceTarget) => `${t.backend.name}/${t.model ?? '*'}`;
const label = targetKey;

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

export function callWithResilience(options: CallWithResilienceOptions): Promise<ResilientResult> {
  // Not an async function: that would wrap run()'s promise in one more. Misuse still rejects.
  let call: ResilientCall;
  try {
    if (options.targets.length === 0) throw new Error('callWithResilience: `targets` needs at least the primary');
    call = new ResilientCall(options);
  } catch (err) {
    return Promise.reject(err);
  }
  return call.run();
}

/** One request through its targets. A class, so the common request (answered at the first attempt)
 * allocates no closures: the state lives in fields and the steps are methods. */
class ResilientCall {
  readonly targets: readonly ResilienceTarget[];
  readonly policy: ResilienceConfig;
  readonly ctx: CallContext;
  readonly state: ResilienceState;
  readonly request: RequestAbort;
  readonly timer: RequestTimer;
  /** Every result a backend returned, so usage covers failed attempts too. */
  readonly consumed: ChatResult[] = [];
  readonly attempts: AttemptRecord[] = [];
  /** The target answering, once one has. */
  current: { index: number; result: ChatResult } | undefined = undefined;
  /** Stops following `ctx.signal` (only when the caller passed no RequestAbort). */
  private unfollow: (() => void) | undefined = undefined;
  private ended = false;

  constructor(readonly options: CallWithResilienceOptions) {
    this.targets = options.targets;
    this.policy = options.policy;
    this.ctx = options.ctx;
    this.state = options.state ?? new ResilienceState();
    if (options.abort) {
      if (options.ctx.cancel !== options.abort.controller) throw new Error('callWithResilience: `ctx` must be `abort.callContext(…)`');
      this.request = options.abort;
    } else {
      this.request = new RequestAbort();
      this.follow(options.ctx.signal);
    }
    this.timer = new RequestTimer(this.request, this.policy.timeouts.totalMs);
  }

  /** True when the client went away or the total deadline passed: nothing more is tried. */
  stopped(): boolean {
    return this.request.stopped;
  }

  /** What a failure becomes once the request stopped: the reason it stopped. */
  stopReason(err: unknown): unknown {
    return this.request.stopped ? this.request.reason : err;
  }

  /** The request is over (answered, failed, or its stream ended): its timer and links go. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.timer.dispose();
    this.unfollow?.();
  }

  async run(): Promise<ResilientResult> {
    const { targets, policy, state } = this;
    let lastError: unknown;
    let openWaitMs = Number.POSITIVE_INFINITY;
    try {
      for (let i = 0; i < targets.length; i++) {
        const key = targetKey(targets[i]!);
        const send = this.sendFor(i);
        for (let n = 1; ; n++) {
          let answer: Answer | undefined;
          try {
            answer = await this.attempt(i, key, n, send, false);
          } catch (err) {
            if (this.stopped()) throw err;
            lastError = err;
            const kind = classifyFailure(err);
            if (kind === 'final') throw err;
            const next = i + 1 < targets.length ? i + 1 : -1;
            if (kind !== 'retryable') {
              if (next >= 0) this.onFallback({ from: i, to: next, reason: kind, error: err });
              break;
            }
            const delayMs = n < policy.retries.maxAttempts ? retryDelayMs(err, n, policy.retries, this.options.random ?? Math.random) : undefined;
            if (delayMs === undefined || delayMs >= this.timer.remainingMs() || !state.budget(key).tryAcquire(policy.retries.budget)) {
              if (next >= 0) this.onFallback({ from: i, to: next, reason: 'retries_exhausted', error: err });
              break;
            }
            this.onRetry({ target: i, attempt: n + 1, delayMs, error: err });
            await sleep(delayMs, this.request).catch((reason: unknown) => {
              throw this.stopReason(reason);
            });
            continue;
          }
          if (answer) {
            this.current = { index: i, result: answer.result };
            if (answer.type === 'json') {
              this.end();
              return answered(answer.result, i, targets[i]!, this.attempts);
            }
            return this.streamed(answer, i);
          }
          // Ejected: skip straight to the next target.
          openWaitMs = Math.min(openWaitMs, state.breaker(key).waitMs());
          if (i + 1 < targets.length) this.onFallback({ from: i, to: i + 1, reason: 'circuit_open' });
          break;
        }
      }
      throw lastError ?? allEjected(openWaitMs);
    } catch (err) {
      this.end();
      throw err;
    }
  }

  /** One attempt on `targets[index]` under a breaker ticket; records it and settles the ticket. */
  async attempt(index: number, key: string, n: number, send: Send, continuation: boolean): Promise<Answer | undefined> {
    const target = this.targets[index]!;
    const { policy, state } = this;
    const ticket = state.breaker(key).acquire(policy.breaker);
    if (!ticket) {
      this.attempts.push({ target: index, attempt: n, outcome: 'skipped', error: 'circuit_open', continuation });
      return undefined;
    }
    if (n === 1 && !continuation) state.budget(key).recordRequest(policy.retries.budget);
    this.options.onAttempt?.({ target: index, attempt: n, continuation });
    try {
      const answer = await runAttempt({ target, send, ctx: this.ctx, request: this.request, timer: this.timer, timeouts: policy.timeouts, ticket, consumed: this.consumed });
      this.attempts.push({ target: index, attempt: n, outcome: 'answered', continuation });
      return answer;
    } catch (err) {
      const reason = this.stopReason(err);
      this.attempts.push({ target: index, attempt: n, outcome: 'failed', error: errorName(reason), continuation });
      if (!this.stopped() && isTargetFailure(classifyFailure(err))) ticket.failure();
      else ticket.release();
      throw reason;
    }
  }

  async continueFrom(input: { after: number; call: ChatCall; sent: string; error: unknown }): Promise<Continuation> {
    const { targets } = this;
    let tried = false;
    for (let j = input.after + 1; j < targets.length; j++) {
      const target = targets[j]!;
      if (!target.acceptsPrefill || this.stopped()) continue;
      const { call, trimmed } = prefillCall(input.call, input.sent);
      this.onFallback({ from: input.after, to: j, reason: 'continuation', error: input.error });
      try {
        const answer = await this.attempt(j, targetKey(target), 1, (backend, attemptCtx) => backend.chat(call, attemptCtx), true);
        if (!answer) continue;
        tried = true;
        if (answer.type !== 'stream') throw new GatewayError({ status: 502, message: 'The continuation did not stream.', code: 'upstream_error' });
        this.current = { index: j, result: answer.result };
        return { answer, index: j, trimmed };
      } catch (err) {
        tried = true;
        if (this.stopped()) throw err;
      }
    }
    if (this.stopped()) throw this.stopReason(input.error);
    throw cutError(input.error, tried ? 'the fallbacks asked to continue it failed too' : 'no fallback able to continue it is available');
  }

  private sendFor(index: number): Send {
    const { options } = this;
    if (options.send) return options.send;
    const target = this.targets[index]!;
    return (backend, attemptCtx) => backend.chat(options.makeCall!(target, index), attemptCtx);
  }

  private onRetry(info: Parameters<NonNullable<ResilienceHooks['onRetry']>>[0]): void {
    this.ctx.logger.warn({ target: label(this.targets[info.target]!), attempt: info.attempt, delayMs: Math.round(info.delayMs), error: errorName(info.error) }, 'upstream failed; retrying');
    this.options.onRetry?.(info);
  }

  private onFallback(info: Parameters<NonNullable<ResilienceHooks['onFallback']>>[0]): void {
    const { targets } = this;
    this.ctx.logger.warn(
      { from: label(targets[info.from]!), to: label(targets[info.to]!), reason: info.reason, error: info.error === undefined ? undefined : errorName(info.error) },
      'falling back',
    );
    this.options.onFallback?.(info);
  }

  /** Ends with the request if the caller passed none: one listener per request, not per attempt. */
  private follow(signal: AbortSignal): void {
    const request = this.request;
    if (signal.aborted) {
      request.abort(signal.reason);
      return;
    }
    const onAbort = () => request.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    this.unfollow = () => signal.removeEventListener('abort', onAbort);
  }

  private streamed(first: StreamAnswer, index: number): ResilientResult {
    const result: StreamResult & ResilientResult = new ResilientStream(this, first, index);
    return result;
  }
}

/** The JSON result, told which target answered. Set field by field: cheaper than Object.assign. */
function answered(result: ChatResult, index: number, target: ResilienceTarget, attempts: readonly AttemptRecord[]): ResilientResult {
  const r = result as ChatResult & { answeredBy: number; target: ResilienceTarget; attempts: readonly AttemptRecord[] };
  r.answeredBy = index;
  r.target = target;
  r.attempts = attempts;
  return r;
}

/** What the relay needs from the request, as methods rather than closures. */
class RelayHooks implements RelayOptions {
  readonly continuable: boolean;
  readonly hasFallbacks: boolean;

  constructor(
    private readonly call: ResilientCall,
    readonly first: StreamAnswer,
    readonly firstIndex: number,
  ) {
    const { targets } = call;
    let continuable = false;
    for (let j = firstIndex + 1; j < targets.length; j++) if (targets[j]!.acceptsPrefill) continuable = true;
    this.continuable = continuable;
    this.hasFallbacks = firstIndex + 1 < targets.length;
  }

  stopped(): boolean {
    return this.call.stopped();
  }

  continueFrom(input: { after: number; call: ChatCall; sent: string; error: unknown }): Promise<Continuation> {
    return this.call.continueFrom(input);
  }

  onCut(answer: StreamAnswer, err: unknown): void {
    if (!this.call.stopped() && isTargetFailure(classifyFailure(err))) answer.ticket.failure();
    else answer.ticket.release();
  }

  usage(): Usage | undefined {
    return sumUsage(this.call.consumed);
  }

  onEnd(): void {
    this.call.end();
  }
}

/** The streamed result: who answered can change while it streams (a continuation), so those are getters. */
class ResilientStream {
  readonly type = 'stream' as const;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly attempts: readonly AttemptRecord[];
  private relay: AsyncIterable<StreamChunk[]> | undefined;
  /** whole() took the answer: there is nothing left to read. */
  private taken = false;

  constructor(
    private readonly call: ResilientCall,
    private readonly first: StreamAnswer,
    private readonly firstIndex: number,
  ) {
    this.status = first.result.status;
    this.headers = first.result.headers;
    this.attempts = call.attempts;
  }

  /** The relay, made when first asked for (a stream taken whole never needs one). */
  get batches(): AsyncIterable<StreamChunk[]> {
    if (this.taken) throw new Error('The stream was taken whole; its batches cannot be read.');
    return (this.relay ??= relayBatches(new RelayHooks(this.call, this.first, this.firstIndex)));
  }

  /** The whole answer, when the batch the attempt read up to the first content was already the
   * stream's last (types.ts, isLastBatch: the upstream's end came with it, and the upstream is let
   * go): the attempt is settled here as the relay settles a finished stream, and the caller sends
   * the answer in one piece. Undefined when more is to come, or once the relay was asked for. */
  whole(): StreamChunk[] | undefined {
    const first = this.first;
    if (this.relay !== undefined || this.taken || !isLastBatch(first.preamble)) return undefined;
    this.taken = true;
    settleAnswered(first);
    this.call.end();
    return first.preamble;
  }

  get model(): string {
    return this.call.current!.result.model;
  }

  usage(): Usage | undefined {
    return sumUsage(this.call.consumed);
  }

  get answeredBy(): number {
    return this.call.current!.index;
  }

  get target(): ResilienceTarget {
    return this.call.targets[this.call.current!.index]!;
  }
}
