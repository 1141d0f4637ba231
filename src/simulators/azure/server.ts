// The Azure OpenAI simulator: a plain node:http server speaking the real wire format.
//   POST /openai/deployments/{deployment}/chat/completions?api-version=…   (and /embeddings)
//   POST /openai/v1/chat/completions                                        (model in the body = deployment)
// https://learn.microsoft.com/azure/ai-services/openai/reference
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { planChat, tripsContentFilter } from './completion.js';
import { FaultQueue, type Fault } from './faults.js';
import { writeEventStream } from './stream-writer.js';
import { azureErrors, chatChunks, chatCompletion, embeddingsResponse } from './wire.js';

export interface AzureSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: '127.0.0.1';
  apiKey: string;
  /** Deployment name → the model name it reports, e.g. { "chat": "gpt-4o-2024-08-06" }. */
  deployments: Record<string, string>;
  /** Pause between the events of every stream (a fault's delayBetweenChunksMs wins), so a demo
   * streams visibly. Default 0. */
  streamDelayMs?: number;
  /** How many requests `requests` keeps (oldest dropped first), so a long demo run stays small. Default 1000. */
  keepRequests?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when it was not JSON. */
  body: unknown;
  /** The body as it came on the wire (what JSON.parse would hide: repeated keys, formatting). */
  text: string;
  /** Set when the exchange ends: `finished` once the whole reply was handed to the socket,
   * `closed-early` when the connection closed first (client went away, or a reset fault). */
  outcome?: 'finished' | 'closed-early';
  /** What this request was billed, as Azure would bill it: the ground truth for metering tests. */
  billed?: { promptTokens: number; completionTokens: number };
}

export interface AzureSimulator {
  /** http://127.0.0.1:PORT — use as the Azure `endpoint`. */
  url: string;
  faults: FaultQueue;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const RATE_LIMIT_REQUESTS = 1000;

type Json = Record<string, unknown>;
type Reply = { status: number; body: unknown; headers?: Record<string, string> | undefined };
type Route = { operation: 'chat' | 'embeddings'; deployment: string | undefined; surface: 'deployments' | 'v1' };

function route(path: string): Route | undefined {
  const deployments = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(path);
  if (deployments)
    return { surface: 'deployments', deployment: decodeURIComponent(deployments[1] as string), operation: deployments[2] === 'embeddings' ? 'embeddings' : 'chat' };
  const v1 = /^\/openai\/v1\/(chat\/completions|embeddings)$/.exec(path);
  if (v1) return { surface: 'v1', deployment: undefined, operation: v1[1] === 'embeddings' ? 'embeddings' : 'chat' };
  return undefined;
}

const authorised = (headers: IncomingHttpHeaders, apiKey: string): boolean =>
  headers['api-key'] === apiKey || headers.authorization === `Bearer ${apiKey}`;

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

export async function startAzureSimulator(options: AzureSimulatorOptions): Promise<AzureSimulator> {
  const faults = new FaultQueue();
  const requests: RecordedRequest[] = [];
  let served = 0;
  const keepRequests = options.keepRequests ?? 1000;

  const send = (res: ServerResponse, reply: Reply, extra: Record<string, string>) => {
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json', ...extra, ...reply.headers });
    res.end(text);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const raw = await readBody(req);
    let body: unknown = raw;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // keep the raw text in the log; answered below
    }
    const record: RecordedRequest = { method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, text: raw };
    requests.push(record);
    if (requests.length > keepRequests) requests.splice(0, requests.length - keepRequests);
    res.once('close', () => (record.outcome = res.writableFinished ? 'finished' : 'closed-early'));

    const requestId = randomUUID();
    served++;
    const headers: Record<string, string> = {
      'apim-request-id': requestId,
      'x-request-id': requestId,
      'x-ms-region': 'Sweden Central',
      'x-ratelimit-remaining-requests': String(Math.max(0, RATE_LIMIT_REQUESTS - served)),
      'x-ratelimit-remaining-tokens': '149000',
    };

    const fault: Fault | undefined = faults.take(url.pathname);
    if (fault?.delayBeforeHeadersMs) await sleep(fault.delayBeforeHeadersMs);
    if (fault?.resetConnection && fault.cutAfterChunks === undefined) {
      req.socket.destroy();
      return;
    }
    if (fault?.status !== undefined) return send(res, { status: fault.status, body: fault.body ?? '', headers: fault.headers ?? {} }, headers);
    Object.assign(headers, fault?.headers);

    const r = route(url.pathname);
    if (!r || req.method !== 'POST') return send(res, azureErrors.resourceNotFound(), headers);
    if (!authorised(req.headers, options.apiKey)) return send(res, azureErrors.unauthorized(), headers);
    if (r.surface === 'deployments' && !url.searchParams.get('api-version')) return send(res, azureErrors.missingApiVersion(), headers);
    if (!body || typeof body !== 'object' || Array.isArray(body))
      return send(res, azureErrors.badRequest('We could not parse the JSON body of your request.'), headers);
    const json = body as Json;
    const deployment = r.deployment ?? (typeof json.model === 'string' ? json.model : undefined);
    const model = deployment !== undefined && Object.hasOwn(options.deployments, deployment) ? options.deployments[deployment] : undefined;
    if (model === undefined) return send(res, azureErrors.deploymentNotFound(), headers);

    if (r.operation === 'embeddings' && (json.input === undefined || json.input === '' || (Array.isArray(json.input) && json.input.length === 0)))
      return send(res, azureErrors.badRequest("'input' is a required property", 'input'), headers);
    if (r.operation === 'embeddings') return send(res, { status: 200, body: embeddingsResponse(json, model) }, headers);

    if (!Array.isArray(json.messages) || json.messages.length === 0)
      return send(res, azureErrors.badRequest("'messages' is a required property", 'messages'), headers);
    const messages = json.messages as Json[];
    if (tripsContentFilter(messages)) return send(res, azureErrors.contentFilter(), headers);

    if (json.stream_options !== undefined && json.stream !== true)
      return send(res, azureErrors.badRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options'), headers);

    const plan = planChat(json);
    record.billed = { promptTokens: plan.promptTokens, completionTokens: plan.completionTokens };
    const meta = { id: `chatcmpl-${requestId.replaceAll('-', '').slice(0, 29)}`, created: Math.floor(Date.now() / 1000), model, systemFingerprint: 'fp_sim0azure' };
    if (json.stream !== true) return send(res, { status: 200, body: chatCompletion(plan, meta) }, headers);

    const includeUsage = ((json.stream_options ?? {}) as Json).include_usage === true;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
    await writeEventStream(res, chatChunks(plan, meta, includeUsage), { delayBetweenChunksMs: options.streamDelayMs, ...fault });
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: { code: 'InternalServerError', message: String(err) } } }, {});
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
