// One attempt on one target: call it under the headers timeout, and for a stream hold back the
// chunks that carry nothing until the first one with content arrives (first-token timeout). Only
// then is the attempt an answer; any failure before that can still be retried or fall back, since
// nothing has reached the client.
import { batchesOf, isLastBatch, markLastBatch, type Backend, type BackendKind, type CallContext, type ChatCall, type ChatResult, type EmbeddingsCall, type JsonResult, type StreamChunk, type StreamResult } from '../backends/types.js';
import type { TimeoutsConfig } from '../config/resilience.js';
import type { BreakerTicket } from './breaker.js';
import { carriesContent, startsWithText } from './chunks.js';
import { attemptContext, type RequestAbort } from './request-abort.js';
import { AttemptGuard, firstTokenTimeout, headersTimeout, idleTimeout, type RequestTimer } from './timeouts.js';

export interface ResilienceTarget {
  backend: Backend;
  /** The model to send upstream on this target; undefined keeps the call's. */
  model?: string;
  /** May be asked to continue a cut stream from an assistant prefill (opt-in, per target). */
  acceptsPrefill: boolean;
}

/** How an attempt reaches the backend: through a view of it that applies the target's model. */
export type Send = (backend: Backend, ctx: CallContext) => Promise<ChatResult>;

export interface JsonAnswer {
  type: 'json';
  result: JsonResult;
}

export interface StreamAnswer {
  type: 'stream';
  result: StreamResult;
  /** The rest of the stream, in batches. */
  iterator: AsyncIterator<StreamChunk[]>;
  /** Chunks read while peeking: up to the first content chunk and whatever came in the same batch.
   * The client has seen none of them. */
  preamble: StreamChunk[];
  /** The stream ended while peeking. */
  ended: boolean;
  guard: AttemptGuard;
  /** The call the backend received (the continuation builds on it). */
  call: ChatCall | undefined;
  /** Settled when the stream ends: a stream that is cut half-way was not a healthy answer. */
  ticket: BreakerTicket;
}

export type Answer = JsonAnswer | StreamAnswer;

export interface AttemptOptions {
  target: ResilienceTarget;
  send: Send;
  ctx: CallContext;
  /** The request: whether it stopped, and the controller its attempts borrow. */
  request: RequestAbort;
  /** The request's timer, which times the attempt's phases too. */
  timer: RequestTimer;
  timeouts: TimeoutsConfig;
  ticket: BreakerTicket;
  /** Every result a backend returned, so usage covers failed attempts too. */
  consumed: ChatResult[];
}

const withModel = <C extends { model: string }>(target: ResilienceTarget, call: C): C =>
  target.model === undefined || target.model === call.model ? call : { ...call, model: target.model };

/** A Backend that sends the target's model, keeps the call it receives, and starts the attempt's first
 * phase (headers, or the whole response) when called. A class, so an attempt allocates no closures. */
export class TargetView implements Backend {
  /** The call the backend received; undefined for embeddings or before the call. */
  call: ChatCall | undefined = undefined;
  /** Present only when the backend has it: callers test for it. */
  readonly embeddings: Backend['embeddings'];

  constructor(
    private readonly target: ResilienceTarget,
    private readonly guard: AttemptGuard,
    private readonly timeouts: TimeoutsConfig,
  ) {
    this.embeddings = target.backend.embeddings ? this.embed : undefined;
  }

  get name(): string {
    return this.target.backend.name;
  }

  get kind(): BackendKind {
    return this.target.backend.kind;
  }

  get provider(): string {
    return this.target.backend.provider;
  }

  models(): string[] {
    return this.target.backend.models();
  }

  chat(call: ChatCall, ctx: CallContext): Promise<ChatResult> {
    const sent = withModel(this.target, call);
    this.call = sent;
    this.guard.arm(sent.stream ? this.timeouts.headersMs : this.timeouts.responseMs, headersTimeout);
    return this.target.backend.chat(sent, ctx);
  }

  private embed(call: EmbeddingsCall, ctx: CallContext): Promise<JsonResult> {
    this.guard.arm(this.timeouts.responseMs, headersTimeout);
    return this.target.backend.embeddings!(withModel(this.target, call), ctx);
  }
}

const noop = () => {};

/** Cancels a result that arrived after its attempt was given up. */
function discardLate(pending: Promise<ChatResult>): void {
  pending.then((late) => {
    if (late.type === 'stream') void batchesOf(late)[Symbol.asyncIterator]().return?.()?.catch(noop);
  }, noop);
}

export async function runAttempt(options: AttemptOptions): Promise<Answer> {
  const { timeouts, ticket, request } = options;
  if (request.stopped) throw request.reason;
  const guard = new AttemptGuard(request, options.timer);
  const view = new TargetView(options.target, guard, timeouts);
  // The first attempt borrows the request's own controller: the context can go as it is.
  const ctx = guard.cancel === options.ctx.cancel ? options.ctx : attemptContext(options.ctx, guard.cancel);
  let pending: Promise<ChatResult>;
  try {
    pending = Promise.resolve(options.send(view, ctx));
  } catch (err) {
    pending = Promise.reject(err);
  }
  let result: ChatResult;
  try {
    result = await guard.race(pending);
  } catch (err) {
    guard.abort(err);
    guard.dispose();
    discardLate(pending);
    throw err;
  }
  options.consumed.push(result);
  if (result.type === 'json') {
    guard.dispose();
    ticket.success();
    return { type: 'json', result };
  }

  guard.arm(timeouts.firstTokenMs, firstTokenTimeout);
  const iterator = batchesOf(result)[Symbol.asyncIterator]();
  let preamble: StreamChunk[] = [];
  let ended = false;
  try {
    for (;;) {
      const next = await guard.race(iterator.next());
      if (next.done) {
        ended = true;
        break;
      }
      preamble = preamble.length === 0 ? next.value : preamble.concat(next.value);
      if (preamble !== next.value && isLastBatch(next.value)) markLastBatch(preamble);
      if (next.value.some(startsWithText) || next.value.some(carriesContent)) break;
    }
  } catch (err) {
    guard.abort(err);
    guard.dispose();
    void iterator.return?.()?.catch(noop);
    throw err;
  }
  guard.arm(timeouts.idleMs, idleTimeout);
  guard.pause();
  return { type: 'stream', result, iterator, preamble, ended, guard, call: view.call, ticket };
}
