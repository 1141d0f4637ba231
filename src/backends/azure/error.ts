// Error step: whatever the SDK throws → GatewayError, keeping the upstream's status, wording,
// type/code/param and Azure's innererror, plus the headers a client needs to back off.
// https://learn.microsoft.com/azure/ai-services/openai/reference#error (ErrorResponse, InnerError)
// openai-node error classes: https://github.com/openai/openai-node/blob/master/src/core/error.ts
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { GatewayError, isGatewayError } from '../../errors.js';
import { exposedHeaders } from './response.js';

type Json = Record<string, unknown>;

const str = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;

/** The `error` object of an OpenAI/Azure error body → GatewayError fields. Used for HTTP errors and
 * for `{"error": …}` events inside a stream. */
export function gatewayErrorFromBody(options: { status: number; error: unknown; fallbackMessage: string; headers?: Record<string, string>; cause?: unknown }): GatewayError {
  const error = (typeof options.error === 'object' && options.error !== null ? options.error : {}) as Json;
  const extra: Json = {};
  // Captures show `innererror` (with content_filter_result); the 2024-10-21 spec says `inner_error`.
  if (error.innererror !== undefined) extra.innererror = error.innererror;
  if (error.inner_error !== undefined) extra.inner_error = error.inner_error;
  return new GatewayError({
    status: options.status,
    message: str(error.message) ?? options.fallbackMessage,
    type: str(error.type) ?? undefined,
    code: str(error.code),
    param: str(error.param),
    headers: options.headers ?? {},
    extra: Object.keys(extra).length > 0 ? extra : undefined,
    cause: options.cause,
  });
}

/** Returns what to throw: a GatewayError, or the abort itself (the caller's signal fired). */
export function fromUpstreamError(err: unknown, signal: AbortSignal): unknown {
  if (isGatewayError(err)) return err;
  if (err instanceof APIUserAbortError || signal.aborted) return err;
  // The gateway's own error from the SDK's fetch (connect.ts: the connect timeout).
  if (err instanceof APIConnectionError && isGatewayError(err.cause)) return err.cause;
  if (err instanceof APIConnectionTimeoutError)
    return new GatewayError({ status: 504, message: 'The upstream did not answer in time.', code: 'upstream_timeout', cause: err });
  if (err instanceof APIConnectionError)
    return new GatewayError({ status: 502, message: 'The upstream could not be reached.', code: 'upstream_unreachable', cause: err });
  if (err instanceof APIError && typeof err.status === 'number')
    return gatewayErrorFromBody({
      status: err.status,
      error: err.error,
      fallbackMessage: `The upstream answered ${err.status}.`,
      headers: exposedHeaders(err.headers),
      cause: err,
    });
  // The SDK parses a 200 JSON body itself; a body that is not JSON surfaces as a SyntaxError.
  if (err instanceof SyntaxError)
    return new GatewayError({ status: 502, message: 'The upstream sent a response that is not valid JSON.', code: 'upstream_invalid_response', cause: err });
  return err;
}
