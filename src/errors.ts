// One error type for everything a client can see. Handlers and backends throw it; the server's
// onError turns it into the OpenAI error shape so the official SDKs raise their usual classes.
// https://platform.openai.com/docs/guides/error-codes

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'timeout_error'
  | 'service_unavailable_error';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface GatewayErrorOptions {
  status: number;
  message: string;
  type?: OpenAIErrorType | string;
  param?: string | null;
  code?: string | null;
  /** Headers the client should see with the error (retry-after, retry-after-ms, x-should-retry, …). */
  headers?: Record<string, string>;
  /** Extra fields merged into `error` (Azure's innererror, for example) — passed through untouched. */
  extra?: Record<string, unknown>;
  cause?: unknown;
}

const defaultTypeByStatus: Record<number, OpenAIErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  408: 'timeout_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'service_unavailable_error',
  504: 'timeout_error',
};

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown> | undefined;

  constructor(options: GatewayErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.status = options.status;
    this.type = options.type ?? defaultTypeByStatus[options.status] ?? (options.status >= 500 ? 'server_error' : 'invalid_request_error');
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
    this.extra = options.extra;
  }

  toJSON(): OpenAIErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code, ...this.extra },
    };
  }
}

export const isGatewayError = (value: unknown): value is GatewayError => value instanceof GatewayError;

/** 400 for a field the gateway reads and finds wrong. */
export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError({ status: 400, message, param, code });

export const notFound = (message: string, code: string | null = 'not_found') =>
  new GatewayError({ status: 404, message, code });

/** A backend's connection to its upstream was not up (TCP connected, TLS handshake done) within
 * `resilience.timeouts.connectMs`. A 5xx, so the resilience layer retries it and counts it against
 * the target. The wording avoids "timed out"/"timeout": openai-node looks for them in what its fetch
 * throws and would replace the error with its own (backends/azure/connect.ts). */
export const upstreamConnectTimeout = (ms: number, cause?: unknown) =>
  new GatewayError({ status: 504, type: 'timeout_error', code: 'upstream_connect_timeout', message: `The upstream did not accept a connection within ${ms} ms.`, cause });

/** Anything that is not a GatewayError becomes a 500 whose message leaks nothing internal. */
export function toGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  return new GatewayError({ status: 500, message: 'The gateway failed to handle the request.', type: 'server_error', code: 'internal_error', cause: err });
}
