// Error step: whatever the Bedrock SDK throws → a GatewayError with an OpenAI status and type.
// The exception name (the SDK takes it from `x-amzn-ErrorType`) decides; a fixed list decides
// whose upstream message is safe to show. Everything else gets a fixed message and is logged.
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors
import type { Logger } from 'pino';
import { GatewayError, type OpenAIErrorType } from '../../errors.js';

interface ErrorMapping {
  status: number;
  type: OpenAIErrorType;
  /** Shown instead of the upstream message when it is not on the safe list. */
  message: string;
  /** The upstream message describes the client's request or a transient state, and is shown. */
  safe: boolean;
  code?: string;
}

const BY_NAME: Record<string, ErrorMapping> = {
  ValidationException: { status: 400, type: 'invalid_request_error', safe: true, message: 'The model rejected the request as invalid.' },
  AccessDeniedException: { status: 403, type: 'permission_error', safe: false, message: 'The gateway is not allowed to use this model upstream.', code: 'upstream_access_denied' },
  ResourceNotFoundException: { status: 404, type: 'not_found_error', safe: false, message: 'The model was not found upstream.', code: 'model_not_found' },
  ModelTimeoutException: { status: 408, type: 'timeout_error', safe: true, message: 'The model took too long to respond.', code: 'model_timeout' },
  ConflictException: { status: 409, type: 'conflict_error', safe: true, message: 'The request conflicted with the upstream state.' },
  ThrottlingException: { status: 429, type: 'rate_limit_error', safe: true, message: 'Too many requests to the model; retry later.', code: 'rate_limit_exceeded' },
  ModelNotReadyException: { status: 429, type: 'rate_limit_error', safe: true, message: 'The model is not ready yet; retry later.', code: 'model_not_ready' },
  ServiceQuotaExceededException: { status: 429, type: 'rate_limit_error', safe: true, message: 'The upstream quota is exhausted.', code: 'insufficient_quota' },
  // A 424 means the model itself failed; OpenAI clients know 502 (and retry it).
  ModelErrorException: { status: 502, type: 'server_error', safe: false, message: 'The model failed while processing the request.', code: 'model_error' },
  ModelStreamErrorException: { status: 502, type: 'server_error', safe: false, message: 'The model failed while streaming the response.', code: 'model_error' },
  InternalServerException: { status: 500, type: 'server_error', safe: false, message: 'The upstream model service failed.', code: 'upstream_error' },
  ServiceUnavailableException: { status: 503, type: 'service_unavailable_error', safe: true, message: 'The upstream model service is unavailable; retry later.', code: 'upstream_unavailable' },
};

/** The gateway's own credentials or signature failed: the client did nothing wrong. */
const CREDENTIAL_ERRORS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'SignatureDoesNotMatch',
  'MissingAuthenticationTokenException',
  'MissingAuthenticationToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'CredentialsProviderError',
  'TokenProviderError',
]);

const CONTEXT_WINDOW = /too long|context (window|length|limit)|too many (input )?tokens|maximum (context|token)|input length/i;
const ARN = /arn:aws[a-z-]*:[^\s"',]+/g;
const ACCOUNT_ID = /\b\d{12}\b/g;

export interface MapErrorOptions {
  signal: AbortSignal;
  logger: Logger;
  /** The error came while reading an event stream that had started (decides the wording of
   * connection-level failures: "interrupted" rather than "could not be reached"). */
  midStream?: boolean;
}

interface SdkErrorLike {
  name?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { headers?: Record<string, string | undefined> };
}

/** The error to throw for `err`: a GatewayError, or, when `signal` fired, not an upstream failure
 * at all: an AbortError is rethrown as is, and any other error the abort caused (a reset socket
 * mid-stream) becomes the signal's reason, so the caller sees what it aborted with. */
export function mapBedrockError(err: unknown, options: MapErrorOptions): Error {
  if (err instanceof GatewayError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorLike;
  if (e.name === 'AbortError') return err as Error;
  if (options.signal.aborted) {
    const reason: unknown = options.signal.reason;
    return reason instanceof Error ? reason : err instanceof Error ? err : new Error(String(err));
  }

  const name = errorName(e);
  const upstreamStatus = e.$metadata?.httpStatusCode;
  const upstreamMessage = typeof e.message === 'string' ? e.message : '';
  const log = { err, upstreamName: name, upstreamStatus, upstreamRequestId: e.$metadata?.requestId };

  if (CREDENTIAL_ERRORS.has(name)) {
    options.logger.error(log, 'bedrock rejected the gateway credentials');
    return new GatewayError({ status: 502, type: 'server_error', code: 'upstream_auth_error', message: 'The gateway could not authenticate to the upstream model service.', cause: err });
  }

  const mapping = BY_NAME[name] ?? fallbackMapping(upstreamStatus, e, options.midStream === true);
  const headers: Record<string, string> = {};
  if (mapping.status === 429) {
    const retryAfter = e.$response?.headers?.['retry-after'];
    if (retryAfter) headers['retry-after'] = retryAfter;
  }
  let code = mapping.code ?? null;
  if (name === 'ValidationException' && CONTEXT_WINDOW.test(upstreamMessage)) code = 'context_length_exceeded';
  const message = mapping.safe && upstreamMessage !== '' ? redact(upstreamMessage) : mapping.message;
  if (!mapping.safe || mapping.status >= 500) options.logger.warn(log, 'bedrock call failed');
  return new GatewayError({ status: mapping.status, type: mapping.type, code, message, headers, cause: err });
}

/** The exception name: the SDK's, or the `x-amzn-ErrorType` header (`Name:namespace`) when the
 * SDK could not model it. */
function errorName(e: SdkErrorLike): string {
  const header = e.$response?.headers?.['x-amzn-errortype'] ?? e.$response?.headers?.['x-amzn-ErrorType'];
  const fromHeader = header?.split(':')[0];
  const name = typeof e.name === 'string' ? e.name : '';
  if ((name === '' || name === 'Error' || name === 'UnknownError' || name.endsWith('ServiceException')) && fromHeader) return fromHeader;
  return name;
}

function fallbackMapping(status: number | undefined, e: SdkErrorLike, midStream: boolean): ErrorMapping {
  if (status === 429) return { status: 429, type: 'rate_limit_error', safe: false, message: 'Too many requests to the model; retry later.', code: 'rate_limit_exceeded' };
  if (status !== undefined && status >= 400 && status < 500 && e.$fault === 'client') {
    return { status: 400, type: 'invalid_request_error', safe: false, message: 'The model rejected the request.', code: 'upstream_rejected' };
  }
  if (e.name === 'TimeoutError') return { status: 504, type: 'timeout_error', safe: false, message: 'The upstream model service did not answer in time.', code: 'upstream_timeout' };
  if (midStream && status === undefined) {
    return { status: 502, type: 'server_error', safe: false, message: 'The upstream stream was interrupted before the answer was complete.', code: 'upstream_stream_interrupted' };
  }
  if (status === undefined) return { status: 502, type: 'server_error', safe: false, message: 'The upstream model service could not be reached.', code: 'upstream_unreachable' };
  return { status: 502, type: 'server_error', safe: false, message: 'The upstream model service failed.', code: 'upstream_error' };
}

/** Safe messages still must not leak account ids or resource ARNs. */
const redact = (message: string): string => message.replace(ARN, '[resource]').replace(ACCOUNT_ID, '[account]');
