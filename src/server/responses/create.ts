// POST /v1/responses — https://platform.openai.com/docs/api-reference/responses/create
// Validate, load the previous_response_id chain, route, call the chat backend, translate back
// (JSON or Responses SSE), store on success, and meter the request exactly once at its end.
import type { Handler } from 'hono';
import { batchesOf, type ChatResult, type StreamResult } from '../../backends/types.js';
import { GatewayError, isGatewayError, toGatewayError } from '../../errors.js';
import type { Meter } from '../../metering/meter.js';
import type { AppEnv } from '../context.js';
import { respond, setResponseHeader } from '../response-headers.js';
import { callWithResilience } from '../../resilience/call.js';
import { RequestAbort } from '../../resilience/request-abort.js';
import { fallbackLabel, resiliencePlan } from '../../resilience/route.js';
import { route } from '../exchange.js';
import { ClientWatch } from '../client-gone.js';
import { RequestMeasure } from '../measure.js';
import { SSE_HEADERS, coalesceHead } from '../sse-response.js';
import { estimateStreamUsage } from '../usage-estimate.js';
import { promptTokens } from '../../limits/estimate.js';
import { itemIds, newId } from './ids.js';
import { resolveReferences } from './references.js';
import { inputItemResources, itemsToMessages, toChatRequest } from './request.js';
import { completionOutput, finalizeResponse, responseSkeleton } from './response.js';
import type { History, ResponseStore } from './store.js';
import { ResponseEventTranslator } from './stream.js';
import type { ResponseObject } from './types.js';
import { responsesRequest, type InputItem } from './validate.js';

export interface CreateDeps {
  meter: Meter;
  store: ResponseStore;
}

const errorTypeOf = (err: unknown): string => (isGatewayError(err) ? (err.code ?? err.type) : 'internal_error');
const encoder = new TextEncoder();

/** Best-effort facts for metering a request whose body may be invalid. */
function requested(raw: unknown): { model: string; stream: boolean } {
  const body = (typeof raw === 'object' && raw !== null ? raw : {}) as { model?: unknown; stream?: unknown };
  return { model: typeof body.model === 'string' ? body.model.slice(0, 256) : '', stream: body.stream === true };
}

export function createResponse(deps: CreateDeps): Handler<AppEnv> {
  return async function createResponseHandler(c) {
    const tenant = c.get('tenant');
    const raw = c.get('body');
    const { model: modelRequested, stream } = requested(raw);
    const measure = new RequestMeasure(deps.meter, { requestId: c.get('requestId'), tenant, operation: 'responses', modelRequested, stream });

    // Client disconnect aborts the upstream call; the first attempt borrows this request's signal
    // (as in exchange.ts), so a request answered at once makes no second one.
    const abort = new RequestAbort();
    const client = new ClientWatch(c, abort);
    const detach = client.stop;

    let result: ChatResult | undefined;
    let source: 'gateway' | 'upstream' = 'gateway';
    try {
      const validated = responsesRequest(raw);
      const { decision, backend } = route(c, raw);
      measure.routed(decision, backend);
      const [history, req] = await Promise.all([deps.store.history(tenant, validated.previous_response_id), resolveReferences(deps.store, tenant, validated)]);
      const model = decision.target.model ?? req.model;
      const chat = toChatRequest(req, history.messages, model);
      const ctx = abort.callContext({ requestId: c.get('requestId'), tenant, logger: c.get('logger') });
      measure.upstreamCalled();
      source = 'upstream';
      // The same retries, timeouts, fallbacks and breakers as chat completions (issue #6).
      const plan = resiliencePlan(c.get('runtime'), decision, backend, req.model);
      const resilient = await callWithResilience({
        ...plan,
        ctx,
        abort,
        send: (b, attemptCtx) =>
          b.chat(
            {
              body: chat.body,
              model,
              stream: req.stream === true,
              clientWantsStreamUsage: false,
              historyLength: decision.kind === 'stateful' && chat.historyLength > 0 ? chat.historyLength : undefined,
            },
            attemptCtx,
          ),
      });
      result = resilient;
      source = 'gateway';
      measure.upstreamAnswered();
      measure.routed(decision, resilient.target.backend);
      if (resilient.answeredBy > 0) setResponseHeader(c, 'x-stateroute-fallback', fallbackLabel(resilient.target));

      const skeleton = responseSkeleton(req, { id: newId('resp'), model: result.model });
      // One id maker for the response's input and output items: their ids name it (ids.ts).
      const ids = itemIds(skeleton.id);
      const inputItems = inputItemResources(req.input, ids);
      // Commit only on success: called once the reply is complete, before the client sees its end.
      const commit = async (response: ResponseObject) => {
        // `stopped`, not the signal: a failed first attempt aborts the lent signal, yet a retry may answer.
        if (abort.stopped) throw abort.reason;
        if (req.store === false) return;
        const reply = itemsToMessages(response.output as unknown as InputItem[]);
        await deps.store.put(tenant, { v: 1, response, inputItems, messages: [...chat.turn, ...reply], chain: history.chain });
      };

      if (result.type === 'json') {
        const response = finalizeResponse(skeleton, { ...completionOutput(result.body, ids), usage: result.usage });
        await commit(response);
        measure.finish({ status: 200, usage: result.usage, modelAnswered: result.model });
        detach();
        return c.json(response, 200, result.headers);
      }
      coalesceHead(c.env);
      const sentTokens = () => promptTokens(chat.body.messages);
      return respond(c, eventStream({ result, skeleton, ids, commit, measure, detach, abort: client.leave, promptTokens: sentTokens }), 200, result.headers, SSE_HEADERS);
    } catch (err) {
      measure.finish({
        status: client.gone ? 499 : isGatewayError(err) ? err.status : 500,
        usage: result?.type === 'json' ? result.usage : undefined,
        modelAnswered: result?.model,
        errorType: client.gone ? 'client_closed' : errorTypeOf(err),
        errorSource: client.gone ? 'client' : source,
      });
      detach();
      // An abort surfaces as the signal's reason (a 499): callWithResilience maps whatever the SDK threw.
      throw err;
    }
  };
}

interface StreamSpec {
  result: StreamResult;
  skeleton: ResponseObject;
  ids: (prefix: 'msg' | 'fc') => string;
  commit(response: ResponseObject): Promise<void>;
  measure: RequestMeasure;
  detach(): void;
  abort(): void;
  /** Estimated prompt tokens of what was sent, for a stream that ends before the upstream reports usage. */
  promptTokens(): number;
}

/** The Responses SSE body: events are written as the upstream chunks arrive (a batch at a time), never buffered. */
function eventStream(spec: StreamSpec): ReadableStream<Uint8Array> {
  const { result, measure } = spec;
  const translator = new ResponseEventTranslator(spec.skeleton, spec.ids);
  const iterator = batchesOf(result)[Symbol.asyncIterator]();
  let started = false;
  let first = true;
  let ended = false;
  let chunks = 0;
  const end = (outcome: { ok: true } | { ok: false; error: GatewayError } | { ok: false; aborted: true }) => {
    if (ended) return;
    ended = true;
    spec.detach();
    const aborted = !outcome.ok && 'aborted' in outcome;
    const reported = result.usage();
    const estimated = reported || outcome.ok ? undefined : estimateStreamUsage(spec.promptTokens(), chunks);
    measure.finish({
      status: outcome.ok ? 200 : aborted ? 499 : (outcome as { error: GatewayError }).error.status,
      usage: reported ?? estimated,
      usageEstimated: estimated !== undefined,
      modelAnswered: result.model,
      errorType: outcome.ok ? undefined : aborted ? 'client_closed' : errorTypeOf((outcome as { error: GatewayError }).error),
      errorSource: outcome.ok ? undefined : aborted ? 'client' : 'upstream',
    });
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(translator.start()));
          return;
        }
        try {
          for (;;) {
            const t = performance.now();
            const next = await iterator.next();
            measure.addUpstreamWait(performance.now() - t);
            if (next.done) {
              const { events, response } = translator.finish(result.usage());
              controller.enqueue(encoder.encode(events));
              await spec.commit(response);
              if (ended) return; // the client left during the store: the complete reply stays stored, nothing more to write
              controller.enqueue(encoder.encode(translator.terminal(response)));
              controller.close();
              end({ ok: true });
              return;
            }
            if (first) {
              first = false;
              measure.firstChunk();
            }
            chunks += next.value.length;
            let events = '';
            for (const chunk of next.value) events += translator.chunk(chunk.value ?? (JSON.parse(chunk.json) as Record<string, unknown>));
            if (events) {
              controller.enqueue(encoder.encode(events));
              return;
            }
          }
        } catch (err) {
          if (ended) return;
          const error = toGatewayError(err);
          controller.enqueue(encoder.encode(translator.fail(error, result.usage())));
          controller.close();
          end({ ok: false, error });
        }
      },
      async cancel() {
        // The client went away: stop the upstream at once; nothing is stored, tokens so far are metered.
        spec.abort();
        end({ ok: false, aborted: true });
        await iterator.return?.().catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
