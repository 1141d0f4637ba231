import { randomFillSync } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { lazyChild } from '../../logger.js';
import type { AppEnv } from '../context.js';
import { applyResponseHeaders, ResponseHeaders } from '../response-headers.js';

// Accept a caller's id only when it is short and printable, so logs and headers cannot be polluted.
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

// Random bytes drawn 4 KiB at a time (as randomUUID caches its entropy): one id is then a hex slice.
const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

/** A fresh request id: `req_` and 128 random bits as 32 hex digits. */
export function newRequestId(): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += 16;
  return `req_${pool.toString('hex', offset - 16, offset)}`;
}

export function requestId(options: { header?: string; logger: Logger }): MiddlewareHandler<AppEnv> {
  const header = (options.header ?? 'x-request-id').toLowerCase();
  if (!options.logger) throw new Error('requestId: a logger is required');
  const base = options.logger;
  return async function requestIdMiddleware(c, next) {
    const given = c.req.header(header);
    const id = given && ACCEPTABLE.test(given) ? given : newRequestId();
    c.set('requestId', id);
    c.set('logger', lazyChild(base, { requestId: id }));
    // The outermost middleware: it starts the response's headers and, last of all, puts them on a
    // response that was not built with them.
    const headers = new ResponseHeaders();
    headers.values[header] = id;
    c.set('responseHeaders', headers);
    await next();
    applyResponseHeaders(c);
  };
}
