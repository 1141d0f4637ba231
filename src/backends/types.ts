// The one interface every backend folder implements. Shared code (server, routing, metering,
// sessions) only ever sees these types; it never tests a backend's name or type.
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Cancellation } from './cancellation.js';

export type BackendKind = 'stateless' | 'stateful';

/** Token usage normalised across providers. `input` excludes cache reads and writes, so that
 * cost = input·pIn + cacheRead·pCacheRead + cacheWrite·pCacheWrite + output·pOut holds everywhere. */
export interface Usage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** Part of `output` spent on reasoning (already counted in `output`). */
  reasoning: number;
}

export const emptyUsage = (): Usage => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 });

/** OpenAI's usage object for a Usage: `prompt_tokens` includes cache reads and writes, `cached_tokens`
 * are the reads. https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage */
export function openAIUsage(usage: Usage) {
  const prompt = usage.input + usage.cacheRead + usage.cacheWrite;
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.output,
    total_tokens: prompt + usage.output,
    prompt_tokens_details: { cached_tokens: usage.cacheRead },
    ...(usage.reasoning > 0 ? { completion_tokens_details: { reasoning_tokens: usage.reasoning } } : {}),
  };
}

/** An OpenAI chat body as the client sent it, parsed once by the server. Fields the gateway does
 * not read are passed through untouched. https://platform.openai.com/docs/api-reference/chat/create */
export type ChatBody = Record<string, unknown> & { model: string; messages: ChatMessage[]; stream?: boolean };
export type ChatMessage = Record<string, unknown> & { role: string };

export interface CallContext {
  requestId: string;
  tenant: string;
  /** Aborted when the client disconnects or a gateway timeout fires: backends must pass it to the SDK. */
  readonly signal: AbortSignal;
  /** The same news without a signal, for a backend's own code (the gateway's contexts make `signal`
   * on first use); `cancellationOf(ctx)` falls back to the signal. */
  readonly cancel?: Cancellation;
  logger: Logger;
}

export interface ChatCall {
  body: ChatBody;
  /** The client's JSON text and the body parsed from it (the server's AppEnv `bodySource`). It
   * stands for `body` only while `bodySource.body === body`: a step that makes a new body (a
   * session's history, a continuation's prefill, the limiter's fill) leaves it behind. A backend that
   * forwards the body may then send the text, changed in place, instead of serialising `body` again. */
  bodySource?: { readonly body: unknown; readonly text: string } | undefined;
  /** The model name the backend should resolve (the client's, or the route's rewrite). */
  model: string;
  stream: boolean;
  /** The client asked for the usage chunk (`stream_options.include_usage`); usage is always collected. */
  clientWantsStreamUsage: boolean;
  /** Stateful path: the first `historyLength` messages are stored history; a prompt-cache point
   * belongs right after them. Undefined on the stateless path. */
  historyLength?: number;
  /** Stateful path: the session those first `historyLength` messages are stored in, so a backend
   * may keep work it did on them for the session's next turns. */
  history?: HistoryRef;
}

/** A session's stored history, as named to a backend. */
export interface HistoryRef {
  /** Names the session, tenant included: two sessions never share a key. */
  key: string;
  /** Chain hashes (sessions/hash.ts) of the call's messages, as the session stores them: at least
   * the first `historyLength` (the stored ones), and the rest as they will be once the turn commits.
   * Equal `hashes[i]` mean equal messages 0…i. */
  hashes: readonly string[];
}

/** One SSE `data:` payload of a chat stream. `json` is what goes on the wire; `value` is the parsed
 * chunk when the backend already has it (translated streams), so nothing parses twice. */
export interface StreamChunk {
  json: string;
  value?: Record<string, unknown>;
  /** The chunk's event as the upstream sent it, `data: <json>\n\n`, is `wire` from `wireStart` to
   * `wireEnd`: the server writes those bytes rather than encode `json` again. Only on a chunk that goes
   * out unchanged: a layer that changes a chunk makes a new one, without these. */
  wire?: Uint8Array;
  wireStart?: number;
  wireEnd?: number;
}

interface ResultBase {
  status: number;
  /** Upstream headers worth showing the client (request ids, rate-limit state). */
  headers: Record<string, string>;
  /** The model that actually answered, as the upstream named it. */
  model: string;
}

export interface JsonResult extends ResultBase {
  type: 'json';
  body: Record<string, unknown>;
  /** `body` exactly as the upstream serialised it, when the backend passes it on unchanged: sent
   * as it is rather than serialised a second time. */
  text?: string;
  usage: Usage | undefined;
}

interface StreamResultBase extends ResultBase {
  type: 'stream';
  /** Usage so far; final once the stream has ended (or failed, or been abandoned). */
  usage(): Usage | undefined;
}

/** The chunks of a stream in order, without the `[DONE]` sentinel (the server writes it); iterating
 * throws a GatewayError when the upstream fails mid-stream. The usage chunk is included only if the
 * client asked. A backend hands them over in batches (`batches`: the chunks that arrived together,
 * one upstream read, in one non-empty array, so each layer pays one async step per read rather than
 * per chunk) or, when its source yields single events, one at a time (`chunks`). Consumers read
 * either through `batchesOf`. */
export type StreamResult = StreamResultBase & StreamDelivery;

/** How a backend hands its chunks over: in batches or one at a time (never both). */
type StreamDelivery = { batches: AsyncIterable<StreamChunk[]>; chunks?: never } | { chunks: AsyncIterable<StreamChunk>; batches?: never };

/** What a backend knows when its stream starts; the model is asked for later (the first chunk, or a
 * router's pick, may name it). */
export type StreamSource = { status: number; headers: Record<string, string>; model: () => string; usage: () => Usage | undefined } & StreamDelivery;

/** A StreamResult whose `model` is read from its source when asked: one shape for every backend's
 * stream results (each had written the same object literal with `get model()`). */
class SourcedStream {
  readonly type = 'stream' as const;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly batches: AsyncIterable<StreamChunk[]> | undefined;
  readonly chunks: AsyncIterable<StreamChunk> | undefined;
  readonly usage: () => Usage | undefined;
  private readonly source: StreamSource;

  constructor(source: StreamSource) {
    this.source = source;
    this.status = source.status;
    this.headers = source.headers;
    this.batches = source.batches;
    this.chunks = source.chunks;
    this.usage = source.usage;
  }

  get model(): string {
    return this.source.model();
  }
}

export const streamResult = (source: StreamSource): StreamResult => new SourcedStream(source) as StreamResult;

/** Batches after which their stream has nothing more: the backend saw the stream's end (`[DONE]`)
 * in the same upstream read and has already let go of the upstream. A consumer may finish on such a
 * batch instead of asking for a next one that cannot come: that question went through every layer
 * (SSE body → relay → attempt guard → translator → upstream body), a dozen promise steps per
 * streamed request. Asking anyway still ends the iteration,
 * so consumers that do not look are unaffected. A WeakSet, not a field on the array: a field would
 * give these arrays a hidden class of their own, and every consumer a second shape to handle. */
const LAST_BATCHES = new WeakSet<readonly StreamChunk[]>();

/** Marks `batch` as its stream's last (see LAST_BATCHES); returns it. */
export function markLastBatch<B extends readonly StreamChunk[]>(batch: B): B {
  LAST_BATCHES.add(batch);
  return batch;
}

export const isLastBatch = (batch: readonly StreamChunk[]): boolean => LAST_BATCHES.has(batch);

/** A stream's chunks as batches, whichever way its backend delivers them. */
export function batchesOf(result: StreamResult): AsyncIterable<StreamChunk[]> {
  return result.batches ?? singleBatches(result.chunks!);
}

/** Each chunk as a batch of one. A plain iterator, not a generator: `return()` reaches the source at
 * once, even while a `next()` is pending, as a for-await over the source would. */
function singleBatches(chunks: AsyncIterable<StreamChunk>): AsyncIterable<StreamChunk[]> {
  return {
    [Symbol.asyncIterator]() {
      const source = chunks[Symbol.asyncIterator]();
      const batch = (next: IteratorResult<StreamChunk>): IteratorResult<StreamChunk[]> => (next.done ? next : { done: false, value: [next.value] });
      return {
        next: () => source.next().then(batch),
        return: async (value?: unknown) => {
          await source.return?.(value);
          return { done: true, value: undefined };
        },
      };
    },
  };
}

export type ChatResult = JsonResult | StreamResult;

export interface EmbeddingsCall {
  body: Record<string, unknown> & { model: string };
  model: string;
}

export interface Backend {
  readonly name: string;
  readonly kind: BackendKind;
  /** OpenTelemetry `gen_ai.provider.name` (e.g. "azure.ai.openai", "aws.bedrock", "openai"). */
  readonly provider: string;
  /** Client-facing model names this backend serves (for GET /v1/models). */
  models(): string[];
  chat(call: ChatCall, ctx: CallContext): Promise<ChatResult>;
  embeddings?(call: EmbeddingsCall, ctx: CallContext): Promise<JsonResult>;
  close?(): Promise<void>;
}

/** A backend folder exports one of these; `backends/registry.ts` lists them. */
export interface BackendFactory<Schema extends z.ZodType = z.ZodType> {
  /** The `type:` value in the config file. */
  readonly type: string;
  readonly kind: BackendKind;
  /** zod schema of this backend's config block, including `type: z.literal(type)`. */
  readonly configSchema: Schema;
  /** `connectMs`: a new connection to the upstream must be up (TCP connected, TLS handshake done)
   * within it, else the call fails with `upstreamConnectTimeout` (errors.ts). The backend's share of
   * `resilience.timeouts.connectMs` (resilience/route.ts, connectMsByBackend). */
  create(options: { name: string; config: z.infer<Schema>; logger: Logger; connectMs: number }): Backend;
}
