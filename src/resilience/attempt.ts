// One attempt on one target: call it under the headers timeout, and for a stream hold back the
// chunks that carry nothing until the first one with content arrives (first-token timeout). Only
// then is the attempt an answer; any failure before that can still be retried or fall back, since
// nothing has reached the client.
import { batchesOf, type Backend, type CallContext, type ChatCall, type ChatResult, type JsonResult, type StreamChunk, type StreamResult } from '../backends/types.js';
import type { TimeoutsConfig } from '../config/resilience.js';
import type { BreakerTicket } from './breaker.js';
import { carriesContent } from './chunks.js';
import { AttemptGuard, firstTokenTimeout, headersTimeout, idleTimeout, type AbortSource } from './timeouts.js';

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
  /** Signals that end the attempt from outside: the client's and the request's deadline. */
  signals: readonly AbortSource[];
  timeouts: TimeoutsConfig;
  ticket: BreakerTicket;
  /** Every result a backend returned, so usage covers failed attempts too. */
  consumed: ChatResult[];
}

/** A Backend that sends the target's model and reports the call it receives. */
export function targetView(target: ResilienceTarget, onCall: (call: ChatCall | undefined) => void): Backend {
  const backend = target.backend;
  const withModel = <C extends { model: string }>(call: C): C => (target.model === undefined ? call : { ...call, model: target.model });
  return {
    name: backend.name,
    kind: backend.kind,
    provider: backend.provider,
    models: () => backend.models(),
    chat(call, ctx) {
      const sent = withModel(call);
      onCall(sent);
      return backend.chat(sent, ctx);
    },
    embeddings: backend.embeddings
      ? (call, ctx) => {
          onCall(undefined);
          return backend.embeddings!(withModel(call), ctx);
        }
      : undefined,
  };
}

const noop = () => {};

/** Cancels a result that arrived after its attempt was given up. */
function discardLate(pending: Promise<ChatResult>): void {
  pending.then((late) => {
    if (late.type === 'stream') void batchesOf(late)[Symbol.asyncIterator]().return?.()?.catch(noop);
  }, noop);
}

export async function runAttempt(options: AttemptOptions): Promise<Answer> {
  const { timeouts, ticket } = options;
  const guard = new AttemptGuard(options.signals);
  if (guard.signal.aborted) {
    guard.dispose();
    throw guard.signal.reason;
  }
  let call: ChatCall | undefined;
  const view = targetView(options.target, (c) => {
    call = c;
    const ms = c?.stream ? timeouts.headersMs : timeouts.responseMs;
    guard.arm(ms, () => headersTimeout(ms));
  });
  let pending: Promise<ChatResult>;
  try {
    pending = Promise.resolve(options.send(view, { ...options.ctx, signal: guard.signal }));
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

  guard.arm(timeouts.firstTokenMs, () => firstTokenTimeout(timeouts.firstTokenMs));
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
      if (next.value.some(carriesContent)) break;
    }
  } catch (err) {
    guard.abort(err);
    guard.dispose();
    void iterator.return?.()?.catch(noop);
    throw err;
  }
  guard.arm(timeouts.idleMs, () => idleTimeout(timeouts.idleMs));
  guard.pause();
  return { type: 'stream', result, iterator, preamble, ended, guard, call, ticket };
}
