// Reads a request body once, enforcing the size limit while it streams in (so a chunked body with
// no Content-Length cannot exceed it either), then parses it as JSON once for every later step.
import type { MiddlewareHandler } from 'hono';
import { GatewayError, invalidRequest } from '../../errors.js';
import type { AppEnv } from '../context.js';

const tooLarge = (limit: number) =>
  new GatewayError({ status: 413, message: `Request body too large: the limit is ${limit} bytes.`, code: 'request_too_large' });

export async function readLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    parts.push(value);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function jsonBody(options: { limitBytes: () => number }): MiddlewareHandler<AppEnv> {
  if (typeof options.limitBytes !== 'function') throw new Error('jsonBody: limitBytes must be a function returning the current limit');
  return async function jsonBodyMiddleware(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'DELETE') return next();
    const limit = options.limitBytes();
    const declared = Number(c.req.header('content-length'));
    if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
    const bytes = await readLimited(c.req.raw.body, limit);
    if (bytes.byteLength === 0) throw invalidRequest('The request body is empty; expected a JSON object.');
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw invalidRequest('The request body is not valid UTF-8.');
    }
    try {
      c.set('body', JSON.parse(text));
    } catch (err) {
      throw invalidRequest(`We could not parse the JSON body of your request: ${(err as Error).message}`, null, 'invalid_json');
    }
    await next();
  };
}
