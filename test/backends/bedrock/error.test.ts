import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { mapBedrockError } from '../../../src/backends/bedrock/error.js';
import { GatewayError } from '../../../src/errors.js';

const sdkError = (name: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400, requestId: 'req-1' }, ...extra });

function map(err: unknown, signal = new AbortController().signal) {
  const logger = pino({ level: 'silent' });
  const warn = vi.spyOn(logger, 'warn');
  const error = vi.spyOn(logger, 'error');
  return { result: mapBedrockError(err, { signal, logger }), logged: warn.mock.calls.length + error.mock.calls.length };
}

describe('Bedrock exception → GatewayError', () => {
  const table: Array<{ name: string; http: number; status: number; type: string; code: string | null; shows: boolean }> = [
    { name: 'ValidationException', http: 400, status: 400, type: 'invalid_request_error', code: null, shows: true },
    { name: 'AccessDeniedException', http: 403, status: 403, type: 'permission_error', code: 'upstream_access_denied', shows: false },
    { name: 'ResourceNotFoundException', http: 404, status: 404, type: 'not_found_error', code: 'model_not_found', shows: false },
    { name: 'ModelTimeoutException', http: 408, status: 408, type: 'timeout_error', code: 'model_timeout', shows: true },
    { name: 'ModelErrorException', http: 424, status: 502, type: 'server_error', code: 'model_error', shows: false },
    { name: 'ThrottlingException', http: 429, status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', shows: true },
    { name: 'ModelNotReadyException', http: 429, status: 429, type: 'rate_limit_error', code: 'model_not_ready', shows: true },
    { name: 'ServiceQuotaExceededException', http: 400, status: 429, type: 'rate_limit_error', code: 'insufficient_quota', shows: true },
    { name: 'InternalServerException', http: 500, status: 500, type: 'server_error', code: 'upstream_error', shows: false },
    { name: 'ServiceUnavailableException', http: 503, status: 503, type: 'service_unavailable_error', code: 'upstream_unavailable', shows: true },
    { name: 'ModelStreamErrorException', http: 200, status: 502, type: 'server_error', code: 'model_error', shows: false },
  ];
  for (const row of table) {
    it(`${row.name} (${row.http}) → ${row.status} ${row.type}`, () => {
      const upstream = sdkError(row.name, 'upstream says: detail 42', { $metadata: { httpStatusCode: row.http } });
      const { result } = map(upstream);
      expect(result).toBeInstanceOf(GatewayError);
      const g = result as GatewayError;
      expect([g.status, g.type, g.code]).toEqual([row.status, row.type, row.code]);
      expect(g.message === 'upstream says: detail 42').toBe(row.shows);
      expect(g.cause).toBe(upstream);
    });
  }

  it('context-window validation messages get code context_length_exceeded', () => {
    for (const message of ['Input is too long for requested model.', 'prompt is too long: 210000 tokens > 200000 maximum', 'The model returned the following errors: too many input tokens']) {
      const g = map(sdkError('ValidationException', message)).result as GatewayError;
      expect([g.status, g.code]).toEqual([400, 'context_length_exceeded']);
    }
    expect((map(sdkError('ValidationException', 'temperature: must be <= 1')).result as GatewayError).code).toBeNull();
  });

  it('safe messages still hide ARNs and account ids', () => {
    const g = map(sdkError('ValidationException', 'Invocation of model ID arn:aws:bedrock:us-east-1:123456789012:inference-profile/x with on-demand throughput isn’t supported for account 123456789012.')).result;
    expect(g.message).not.toMatch(/123456789012|arn:aws/);
    expect(g.message).toContain('[resource]');
  });

  it('throttling carries retry-after when the upstream sent it', () => {
    const upstream = sdkError('ThrottlingException', 'slow down', { $metadata: { httpStatusCode: 429 }, $response: { headers: { 'retry-after': '7' } } });
    expect((map(upstream).result as GatewayError).headers).toEqual({ 'retry-after': '7' });
    expect((map(sdkError('ThrottlingException', 'slow down')).result as GatewayError).headers).toEqual({});
  });

  it('credential and signature errors → 502 with a generic message, and the real one is logged', () => {
    for (const name of ['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'CredentialsProviderError']) {
      const { result, logged } = map(sdkError(name, 'The security token included in the request is invalid for AKIAEXAMPLE', { $metadata: { httpStatusCode: 403 } }));
      const g = result as GatewayError;
      expect([g.status, g.type, g.code]).toEqual([502, 'server_error', 'upstream_auth_error']);
      expect(g.message).not.toContain('AKIA');
      expect(logged).toBe(1);
    }
  });

  it('the x-amzn-ErrorType header names an exception the SDK could not model', () => {
    const upstream = sdkError('UnknownError', 'x', { $metadata: { httpStatusCode: 429 }, $response: { headers: { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' } } });
    expect((map(upstream).result as GatewayError).status).toBe(429);
  });

  it('unknown errors: 4xx client fault → 400 generic, network failure → 502, timeout → 504', () => {
    expect(map(sdkError('WeirdException', 'internal detail', { $metadata: { httpStatusCode: 400 } })).result).toMatchObject({ status: 400, message: 'The model rejected the request.' });
    expect(map(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' })).result).toMatchObject({ status: 502, code: 'upstream_unreachable' });
    expect(map(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })).result).toMatchObject({ status: 504, type: 'timeout_error' });
    expect(map('a string').result).toMatchObject({ status: 502 });
  });

  it('an abort from ctx.signal is rethrown as is', () => {
    const controller = new AbortController();
    controller.abort();
    const abort = Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    expect(map(abort, controller.signal).result).toBe(abort);
    expect(map(abort).result).toBe(abort);
  });

  it('another error caused by the abort (socket reset) becomes the signal reason', () => {
    const controller = new AbortController();
    controller.abort();
    const reset = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    expect(map(reset, controller.signal).result).toBe(controller.signal.reason);
  });

  it('a GatewayError passes through', () => {
    const g = new GatewayError({ status: 418, message: 'teapot' });
    expect(map(g).result).toBe(g);
  });
});
