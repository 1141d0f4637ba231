// One request through the simulator: route, record, verify SigV4, apply a queued fault, validate,
// answer (JSON for Converse, event-stream frames for ConverseStream). Every failure is an AwsError
// thrown to one place that writes it the way AWS does.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import http2 from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateAnswer } from './answer.js';
import type { PromptCache } from './cache.js';
import { AwsError } from './errors.js';
import { answerEvents, encodeEvent, encodeException, type StreamEvent } from './eventstream.js';
import { faultError, isErrorFault, streamExceptionMessages, type Fault, type FaultQueue, type Operation } from './faults.js';
import { verifySigV4, type VerifyOptions } from './sigv4.js';
import { layoutPrompt } from './tokens.js';
import { connectionIdOf, type SimRequest, type SimResponse } from './transport.js';
import type { ConverseUsage } from './types.js';
import { validateConverseRequest } from './validate.js';

/** Bedrock's request size limit is far above this; the simulator only guards its own memory. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;
const ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream)$/;

export interface RecordedRequest {
  operation: Operation | undefined;
  method: string;
  /** Raw path as received (model id still URI-encoded). */
  path: string;
  modelId: string | undefined;
  httpVersion: string;
  /** Which TCP connection (1, 2, … per simulator) carried it: equal ids mean a reused connection. */
  connection: number;
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
  /** Status sent, once known. */
  status?: number;
  /** The usage this request was billed (the ground truth for metering tests). */
  billed?: { inputTokens: number; outputTokens: number; cacheReadInputTokens: number; cacheWriteInputTokens: number };
  /** Set when the exchange is over: false if the connection closed before the response was
   * complete (client gone, or a `cut` fault), which is how a test sees a gateway abort upstream. */
  completed?: boolean;
  /** ConverseStream: event frames written so far (exception frames not counted). */
  streamEvents?: number;
}

export interface HandlerContext {
  /** One object for the simulator's lifetime: the verifier caches its signer on it. */
  verify: VerifyOptions;
  /** Oldest entries of `requests` are dropped beyond this, so long benchmarks stay bounded. */
  maxRecordedRequests: number;
  models: ReadonlySet<string> | undefined;
  unknownModelError: 'ResourceNotFoundException' | 'ValidationException';
  cache: PromptCache;
  faults: FaultQueue;
  requests: RecordedRequest[];
  /** Pause between event frames, so streams take time like a model generating. */
  streamEventDelayMs: number;
}

async function readBody(req: SimRequest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AwsError('ValidationException', 'Request body is too large.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function flatHeaders(req: SimRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}

/** Both response classes take (status, headers); TypeScript cannot unify their overloads. */
const writeHead = (res: SimResponse, status: number, headers: Record<string, string>) =>
  (res as http.ServerResponse).writeHead(status, headers);

function sendError(res: SimResponse, error: AwsError, requestId: string): void {
  const body = error.body();
  writeHead(res, error.status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-errortype': error.errorType,
    'x-amzn-requestid': requestId,
    // The SDK corrects its clock from this header after a skew error.
    date: new Date().toUTCString(),
  });
  res.end(body);
}

/** Write one frame and wait until it has left, so frames go out as produced. */
async function writeFrame(res: SimResponse, frame: Uint8Array, peerGone: () => boolean): Promise<boolean> {
  if (peerGone()) return false;
  // The callback runs once the frame is handed to the socket (or with an error if the peer left).
  const writable = res as { write(chunk: Uint8Array, cb: (err?: Error | null) => void): boolean };
  await new Promise<void>((resolve) => writable.write(frame, () => resolve()));
  return !peerGone();
}

function cut(res: SimResponse): void {
  // HTTP/2: reset just this stream; HTTP/1.1: drop the connection mid-body.
  if ('stream' in res) res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  else res.socket?.destroy();
}

async function streamAnswer(res: SimResponse, record: RecordedRequest, requestId: string, events: Iterable<StreamEvent>, fault: Fault | undefined, eventDelayMs: number): Promise<void> {
  writeHead(res, 200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-requestid': requestId,
    date: new Date().toUTCString(),
  });
  // 'close' before our end() means the client left (HTTP/2 compat responses have no `destroyed`, and
  // writes to a reset stream succeed silently), so stop generating.
  let closed = false;
  res.once('close', () => (closed = true));
  const peerGone = () => closed;
  record.streamEvents = 0;
  const stopAfter = fault?.type === 'midStreamException' || fault?.type === 'cut' ? (fault.afterEvents ?? 1) : Number.POSITIVE_INFINITY;
  let seq = 0;
  const delay = fault?.type === 'slowStream' ? fault.eventDelayMs : eventDelayMs;
  for (const event of events) {
    if (seq >= stopAfter) break;
    if (seq > 0 && delay > 0) await sleep(delay);
    if (!(await writeFrame(res, encodeEvent(event, seq), peerGone))) return;
    seq += 1;
    record.streamEvents = seq;
  }
  if (fault?.type === 'cut') return cut(res);
  if (fault?.type === 'midStreamException') {
    const exception = fault.exception ?? 'modelStreamErrorException';
    await writeFrame(res, encodeException(exception, fault.message ?? streamExceptionMessages[exception]), peerGone);
  }
  res.end();
}

export function createHandler(ctx: HandlerContext) {
  return function bedrockSimulatorRequest(req: SimRequest, res: SimResponse): void {
    const requestId = randomUUID();
    handle(req, res, ctx, requestId).catch((err: unknown) => {
      const error = err instanceof AwsError ? err : new AwsError('InternalServerException', 'The system encountered an unexpected error during processing. Try your request again.');
      if (!res.headersSent) sendError(res, error, requestId);
      else cut(res);
    });
  };
}

async function handle(req: SimRequest, res: SimResponse, ctx: HandlerContext, requestId: string): Promise<void> {
  const started = Date.now();
  const url = req.url ?? '/';
  const path = url.split('?')[0]!;
  const route = ROUTE.exec(path);
  const raw = await readBody(req);
  const operation = route?.[2] as Operation | undefined;
  let modelId: string | undefined;
  try {
    modelId = route ? decodeURIComponent(route[1]!) : undefined;
  } catch {
    modelId = undefined;
  }
  let body: unknown;
  try {
    body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
  } catch {
    body = undefined;
  }
  const record: RecordedRequest = { operation, method: req.method ?? 'GET', path: url, modelId, httpVersion: req.httpVersion, connection: connectionIdOf(req), headers: flatHeaders(req), body };
  ctx.requests.push(record);
  if (ctx.requests.length > ctx.maxRecordedRequests) ctx.requests.splice(0, ctx.requests.length - ctx.maxRecordedRequests);
  let finished = false;
  res.once('finish', () => {
    finished = true;
    record.status = res.statusCode;
  });
  res.once('close', () => {
    record.status ??= res.statusCode;
    // HTTP/2 compat responses emit 'finish' when the stream closes even if end() never ran.
    record.completed = finished && res.writableEnded;
  });

  await verifySigV4({ method: req.method ?? 'GET', url, headers: req.headers, body: raw }, ctx.verify);
  if (!route || req.method !== 'POST' || !operation) throw new AwsError('UnknownOperationException', 'Unknown operation.');
  if (modelId === undefined || (ctx.models && !ctx.models.has(modelId))) {
    throw new AwsError(ctx.unknownModelError, 'The provided model identifier is invalid.');
  }
  if (body === undefined && raw.length > 0) throw new AwsError('ValidationException', 'Malformed input request, please reformat your input and try again.');

  const fault = ctx.faults.take(operation, modelId);
  if (fault && isErrorFault(fault)) throw faultError(fault);
  if (fault?.type === 'delayMs') await sleep(fault.ms);

  const request = validateConverseRequest(body ?? {});
  const layout = layoutPrompt(request);
  const billed = ctx.cache.account(modelId, layout);
  const answer = generateAnswer(request, modelId);
  const usage: ConverseUsage = {
    inputTokens: billed.inputTokens,
    outputTokens: answer.outputTokens,
    totalTokens: layout.totalTokens + answer.outputTokens,
    ...(billed.cacheReadInputTokens === undefined ? {} : { cacheReadInputTokens: billed.cacheReadInputTokens, cacheWriteInputTokens: billed.cacheWriteInputTokens }),
  };
  const latencyMs = () => Math.max(1, Date.now() - started);
  record.billed = { inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0, cacheReadInputTokens: usage.cacheReadInputTokens ?? 0, cacheWriteInputTokens: usage.cacheWriteInputTokens ?? 0 };

  if (operation === 'converse-stream') {
    return streamAnswer(res, record, requestId, answerEvents(answer, usage, latencyMs), fault, ctx.streamEventDelayMs);
  }
  const json = JSON.stringify({
    output: { message: { role: 'assistant', content: answer.content } },
    stopReason: answer.stopReason,
    usage,
    metrics: { latencyMs: latencyMs() },
  });
  writeHead(res, 200, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(json)),
    'x-amzn-requestid': requestId,
    date: new Date().toUTCString(),
  });
  res.end(json);
}
