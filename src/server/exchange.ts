// The shared path of every proxied request after its route handler has validated the body:
// route it, call the backend, answer JSON or SSE, and meter it exactly once at its end.
import type { Context } from 'hono';
import type { Backend, CallContext, ChatResult, HistoryRef, StreamChunk } from '../backends/types.js';
import { GatewayError, isGatewayError } from '../errors.js';
import type { Meter } from '../metering/meter.js';
import { callWithResilience, type ResilientResult } from '../resilience/call.js';
import { RequestAbort } from '../resilience/request-abort.js';
import { fallbackLabel, resiliencePlan } from '../resilience/route.js';
import type { RouteDecision } from '../routing/compile.js';
import { requestFacts, type RequestFacts } from '../routing/facts.js';
import { ClientWatch } from './client-gone.js';
import type { AppEnv } from './context.js';
import { RequestMeasure, type MeasureStart } from './measure.js';
import { respond, setResponseHeader } from './response-headers.js';
import { estimateStreamUsage } from './usage-estimate.js';
import { SSE_HEADERS, coalesceHead, sseBody, sseWhole, type StreamHooks } from './sse-response.js';

export interface ExchangeDeps {
  meter: Meter;
}

/** A stateful turn wraps the call: it may change what is sent, and commits only on success. */
export interface Turn {
  /** Messages to send upstream instead of the client's (history + new). */
  messages?: unknown[];
  historyLength?: number;
  /** The session the history comes from (see ChatCall.history). */
  history?: HistoryRef;
  /** Called with the assistant's reply (JSON, or assembled from the stream) before the client sees the end. */
  commit(result: { body?: Record<string, unknown>; chunks?: StreamChunk[] }): Promise<void>;
  /** Always called once, after commit or failure. */
  release(): Promise<void>;
  /** True when commit needs the streamed chunks kept. */
  readonly collectsChunks: boolean;
}

export interface ExchangeSpec {
  operation: MeasureStart['operation'];
  model: string;
  stream: boolean;
  facts: RequestFacts;
  decision: RouteDecision;
  backend: Backend;
  /** Estimated prompt tokens of what was sent, for a stream that ends before the upstream reports usage. */
  promptTokens?: (turn: Turn | undefined) => number;
  /** Opens the session turn, when the route is stateful and the request names a session. */
  turn?: (signal: AbortSignal) => Promise<Turn | undefined>;
  call(backend: Backend, ctx: CallContext, turn: Turn | undefined): Promise<ChatResult>;
}


export function route(c: Context<AppEnv>, body: unknown): { facts: RequestFacts; decision: RouteDecision; backend: Backend } {
  const runtime = c.get('runtime');
  const facts = requestFacts({
    method: c.req.method,
    path: c.req.path,
    headers: c.req.raw.headers,
    tenant: c.get('tenant'),
    body,
    sessions: runtime.config.sessions,
  });
  const decision = runtime.router.decide(facts);
  const backend = runtime.backends.get(decision.target.backend);
  // Config validation guarantees the backend exists; this guards a programming error, not input.
  if (!backend) throw new GatewayError({ status: 500, message: `Route "${decision.route}" names an unknown backend.`, code: 'misconfigured_route' });
  setResponseHeader(c, 'x-stateroute-route', decision.route);
  setResponseHeader(c, 'x-stateroute-rule', decision.rule);
  return { facts, decision, backend };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

const errorTypeOf = (err: unknown): string => (isGatewayError(err) ? (err.code ?? err.type) : 'internal_error');

export async function exchange(c: Context<AppEnv>, deps: ExchangeDeps, spec: ExchangeSpec): Promise<Response> {
  const measure = new RequestMeasure(deps.meter, {
    requestId: c.get('requestId'),
    tenant: c.get('tenant'),
    operation: spec.operation,
    modelRequested: spec.model,
    stream: spec.stream,
    sessionId: spec.facts.sessionId,
  }, spec.decision, spec.backend);

  // The client leaving aborts the upstream call; the first attempt borrows this request's controller,
  // so a request answered at once makes no second one (and no AbortSignal, unless a backend asks).
  const abort = new RequestAbort();
  const client = new ClientWatch(c, abort);
  const ctx = abort.callContext({ requestId: c.get('requestId'), tenant: c.get('tenant'), logger: c.get('logger') });

  let turn: Turn | undefined;
  let result: ResilientResult | undefined;
  let source: 'gateway' | 'upstream' = 'gateway';
  try {
    // A stateless request has no turn: no await of undefined (each costs a promise and a tick).
    if (spec.turn) turn = await spec.turn(abort.signal);
    source = 'upstream';
    measure.upstreamCalled();
    // Retries, timeouts, fallbacks and circuit breaking wrap the call from outside (issue #6).
    const plan = resiliencePlan(c.get('runtime'), spec.decision, spec.backend, spec.model);
    const metrics = deps.meter.metrics;
    const nameOf = (i: number) => plan.targets[i]?.backend.name ?? 'unknown';
    // The plan's fields named, not spread: fields added after a spread get V8 hidden classes of their
    // own per request (see response-headers.ts).
    result = await callWithResilience({
      targets: plan.targets,
      policy: plan.policy,
      state: plan.state,
      ctx,
      abort,
      send: (backend, attemptCtx) => spec.call(backend, attemptCtx, turn),
      onRetry: ({ target, error }) => {
        metrics.attemptFailed({ backend: nameOf(target), errorType: errorTypeOf(error) });
        metrics.retry({ backend: nameOf(target) });
      },
      onFallback: ({ from, to, error }) => {
        if (error !== undefined) metrics.attemptFailed({ backend: nameOf(from), errorType: errorTypeOf(error) });
        metrics.fallback({ route: spec.decision.route, from: nameOf(from), to: nameOf(to) });
      },
    });
    source = 'gateway';
    measure.upstreamAnswered();
    measure.routed(spec.decision, result.target.backend);
    if (result.answeredBy > 0) setResponseHeader(c, 'x-stateroute-fallback', fallbackLabel(result.target));
    if (result.type === 'json') {
      if (turn) await turn.commit({ body: result.body });
      measure.finish({ status: result.status, usage: result.usage, modelAnswered: result.model });
      client.stop();
      if (turn) await turn.release();
      // The upstream's own bytes when the backend passed them on unchanged: no second serialisation.
      if (result.text !== undefined) return respond(c, result.text, result.status, result.headers, JSON_HEADERS);
      return respond(c, JSON.stringify(result.body), result.status, result.headers, JSON_HEADERS);
    }
  } catch (err) {
    measure.finish({
      status: client.gone ? 499 : isGatewayError(err) ? err.status : 500,
      usage: result?.type === 'json' ? result.usage : undefined,
      modelAnswered: result?.model,
      errorType: errorTypeOf(err),
      errorSource: client.gone ? 'client' : source,
    });
    client.stop();
    if (turn) await turn.release();
    // An abort surfaces as the signal's reason (a 499): callWithResilience maps whatever the SDK threw.
    throw err;
  }

  const streamed = result;
  const kept: StreamChunk[] | undefined = turn?.collectsChunks ? [] : undefined;
  let chunks = 0;
  const hooks: StreamHooks = {
    onFirstChunk: () => measure.firstChunk(),
    onWait: (ms) => measure.addUpstreamWait(ms),
    onBatch: (batch) => {
      chunks += batch.length;
      if (kept) for (const chunk of batch) kept.push(chunk);
    },
    beforeDone: turn ? () => turn!.commit({ chunks: kept ?? [] }) : undefined,
    onEnd: (outcome) => {
      client.stop();
      const status = outcome.ok ? 200 : 'aborted' in outcome ? 499 : outcome.error.status;
      // A continuation may have moved the answer to a fallback mid-stream: meter the one that finished.
      measure.routed(spec.decision, streamed.target.backend);
      // No usage from the upstream (the client left, the stream was cut): estimate rather than bill nothing.
      const reported = streamed.usage();
      const estimated = reported || outcome.ok || !spec.promptTokens ? undefined : estimateStreamUsage(spec.promptTokens(turn), chunks);
      measure.finish({
        status,
        usage: reported ?? estimated,
        usageEstimated: estimated !== undefined,
        modelAnswered: streamed.model,
        errorType: outcome.ok ? undefined : 'aborted' in outcome ? 'client_closed' : errorTypeOf(outcome.error),
        errorSource: outcome.ok ? undefined : 'aborted' in outcome ? 'client' : 'upstream',
      });
      void turn?.release();
    },
  };
  // respond(): the request id, route and rule headers go out with the stream's own.
  const whole = streamed.whole?.();
  if (whole !== undefined) {
    const bytes = sseWhole(whole, hooks);
    return respond(c, bytes instanceof Uint8Array ? bytes : await bytes, 200, streamed.headers, SSE_HEADERS);
  }
  const body = sseBody(streamed, hooks, () => client.leave());
  coalesceHead(c.env);
  return respond(c, body, 200, streamed.headers, SSE_HEADERS);
}
