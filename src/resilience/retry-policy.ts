// What a failed attempt means for the next one: retry the same target, go to the next target, or
// stop. Only errors that happened before anything reached the client come here.
// Back-off follows openai-node: `retry-after-ms`, then `retry-after`, else jittered exponential.
// https://github.com/openai/openai-node/blob/master/src/client.ts (retryRequest, calculateDefaultRetryTimeoutMillis)
import type { RetriesConfig } from '../config/resilience.js';
import { isGatewayError } from '../errors.js';

export type FailureKind =
  /** 408, 429, 5xx, resets: retry the same target (within limits), then fall back. */
  | 'retryable'
  /** The target stayed silent past a gateway timeout: no retry, straight to the next target. */
  | 'timeout'
  /** The request is too large for this model: a fallback (possibly larger) may take it, the same model never. */
  | 'too-large'
  /** Anything else (400s such as content_filter, auth, not found): the client gets it as is. */
  | 'final';

/** Error codes for the gateway's own timeouts (timeouts.ts) and the SDKs' silent-upstream timeout. */
export const SILENT_UPSTREAM_CODES: ReadonlySet<string> = new Set([
  'upstream_headers_timeout',
  'upstream_first_token_timeout',
  'upstream_idle_timeout',
  'upstream_timeout',
]);

const CONTEXT_LENGTH_CODES: ReadonlySet<string> = new Set(['context_length_exceeded', 'string_above_max_length']);

/** Node and undici error codes of a connection that failed or was cut. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function connectionCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return code;
  }
  return undefined;
}

export function classifyFailure(err: unknown): FailureKind {
  if (!isGatewayError(err)) return connectionCode(err) ? 'retryable' : 'final';
  if (err.code && SILENT_UPSTREAM_CODES.has(err.code)) return 'timeout';
  if (err.code && CONTEXT_LENGTH_CODES.has(err.code)) return 'too-large';
  // The upstream's own verdict wins when it gives one (openai-node honours it the same way).
  const should = err.headers['x-should-retry'];
  if (should === 'true') return 'retryable';
  if (should === 'false') return 'final';
  if (err.status === 408 || err.status === 429 || err.status >= 500) return 'retryable';
  if (connectionCode(err)) return 'retryable';
  return 'final';
}

/** True when the failure says the target is unhealthy (it counts towards ejection). */
export const isTargetFailure = (kind: FailureKind): boolean => kind === 'retryable' || kind === 'timeout';

/** Milliseconds the upstream asked us to wait, from `retry-after-ms`, then `retry-after` (seconds or
 * an HTTP date). Undefined when absent or unreadable. */
export function retryAfterMs(headers: Record<string, string>, now = Date.now()): number | undefined {
  const msHeader = headers['retry-after-ms'];
  if (msHeader !== undefined) {
    const value = Number.parseFloat(msHeader);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const header = headers['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number.parseFloat(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential back-off, `baseDelayMs · 2^(retry-1)` up to `maxDelayMs`, minus up to 25 % jitter. */
export function backoffMs(retry: number, config: Pick<RetriesConfig, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return ceiling * (1 - 0.25 * random());
}

/** The wait before retry number `retry` (1 = first retry), or undefined when the upstream asked for
 * longer than `retryAfterCapMs`: then waiting is pointless, and the next target is the better bet. */
export function retryDelayMs(err: unknown, retry: number, config: RetriesConfig, random: () => number = Math.random): number | undefined {
  const asked = isGatewayError(err) ? retryAfterMs(err.headers) : undefined;
  if (asked === undefined) return backoffMs(retry, config, random);
  return asked > config.retryAfterCapMs ? undefined : asked;
}
