// A Bedrock Runtime twin for tests and the demo: Converse and ConverseStream on their real REST
// paths, SigV4-verified, over HTTP/1.1 and HTTP/2 on one port, with Bedrock's validation rules,
// Anthropic-style prompt caching, and faults on demand.
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
import { PromptCache } from './cache.js';
import { FaultQueue, type Fault } from './faults.js';
import { createHandler, type RecordedRequest } from './handler.js';
import type { SimCredentials } from './sigv4.js';
import { listenDual } from './transport.js';

export type { Fault, ErrorFaultType, StreamExceptionType, Operation } from './faults.js';
export type { RecordedRequest } from './handler.js';
export type { SimCredentials } from './sigv4.js';

export interface BedrockSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** The region requests must be signed for. */
  region: string;
  credentials: SimCredentials;
  /** Known model ids; any other id is refused (see `unknownModel`). Omitted: every id is known. */
  models?: string[];
  /** How an unknown model id is refused: 404 ResourceNotFoundException (default), or 400
   * ValidationException, which is what live Bedrock sends ("The provided model identifier is invalid."). */
  unknownModel?: 'notFound' | 'validation';
  /** How long a written cache prefix stays readable (Bedrock's default TTL is 5 minutes). */
  cacheTtlMs?: number;
  /** Smallest prefix (tokens) a cachePoint caches; Claude Sonnet's is 1,024. Default 0. */
  cacheMinTokens?: number;
  /** `requests` keeps the most recent this many (default 10,000), so benchmarks stay bounded. */
  maxRecordedRequests?: number;
  /** Pause between ConverseStream event frames (default 0), so streams take time like a model generating. */
  streamEventDelayMs?: number;
}

export interface BedrockSimulator {
  /** `http://127.0.0.1:<port>`: pass as the SDK's `endpoint`. */
  url: string;
  close(): Promise<void>;
  faults: {
    push(fault: Fault): void;
    clear(): void;
    pending(): Fault[];
  };
  /** Requests received, in order, including rejected ones (the latest `maxRecordedRequests`). */
  requests: RecordedRequest[];
  /** Forget every cached prompt prefix. */
  resetCache(): void;
}

export async function startBedrockSimulator(options: BedrockSimulatorOptions): Promise<BedrockSimulator> {
  if (!options.region) throw new TypeError('startBedrockSimulator needs a `region` to verify SigV4 scopes against.');
  if (!options.credentials?.accessKeyId || !options.credentials?.secretAccessKey) {
    throw new TypeError('startBedrockSimulator needs `credentials: { accessKeyId, secretAccessKey }` to verify signatures.');
  }
  if (options.unknownModel !== undefined && options.unknownModel !== 'notFound' && options.unknownModel !== 'validation') {
    throw new TypeError(`unknownModel must be 'notFound' or 'validation', got ${String(options.unknownModel)}`);
  }
  const cacheTtlMs = options.cacheTtlMs ?? 300_000;
  if (!(cacheTtlMs > 0)) throw new TypeError(`cacheTtlMs must be positive, got ${String(options.cacheTtlMs)}`);

  const streamEventDelayMs = options.streamEventDelayMs ?? 0;
  if (!(streamEventDelayMs >= 0)) throw new TypeError(`streamEventDelayMs must be ≥ 0, got ${String(options.streamEventDelayMs)}`);

  const cacheMinTokens = options.cacheMinTokens ?? 0;
  if (!(cacheMinTokens >= 0)) throw new TypeError(`cacheMinTokens must be ≥ 0, got ${String(options.cacheMinTokens)}`);

  const maxRecordedRequests = options.maxRecordedRequests ?? 10_000;
  if (!Number.isInteger(maxRecordedRequests) || maxRecordedRequests < 0) {
    throw new TypeError(`maxRecordedRequests must be a non-negative integer, got ${String(options.maxRecordedRequests)}`);
  }

  const cache = new PromptCache({ ttlMs: cacheTtlMs, minTokens: cacheMinTokens });
  const faults = new FaultQueue();
  const requests: RecordedRequest[] = [];
  const server = await listenDual({
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    onRequest: createHandler({
      verify: {
        region: options.region,
        service: 'bedrock',
        credentials: { accessKeyId: options.credentials.accessKeyId, secretAccessKey: options.credentials.secretAccessKey },
      },
      maxRecordedRequests,
      models: options.models ? new Set(options.models) : undefined,
      unknownModelError: options.unknownModel === 'validation' ? 'ValidationException' : 'ResourceNotFoundException',
      cache,
      faults,
      requests,
      streamEventDelayMs,
    }),
  });

  return {
    url: server.url,
    close: () => server.close(),
    faults: {
      push: (fault) => faults.push(fault),
      clear: () => faults.clear(),
      pending: () => faults.pending(),
    },
    requests,
    resetCache: () => cache.reset(),
  };
}
