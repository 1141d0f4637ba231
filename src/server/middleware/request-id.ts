import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { AppEnv } from '../context.js';

// Accept a caller's id only when it is short and printable, so logs and headers cannot be polluted.
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

/** A fresh request id: `req_` and 128 bits as 32 hex digits (a UUIDv4's 122 random bits). */
export const newRequestId = (): string => `req_${randomUUID().replaceAll('-', '')}`;

export function requestId(options: { header?: string; logger: Logger }): MiddlewareHandler<AppEnv> {
  const header = (options.header ?? 'x-request-id').toLowerCase();
  if (!options.logger) throw new Error('requestId: a logger is required');
  const base = options.logger;
  return async function requestIdMiddleware(c, next) {
    const given = c.req.header(header);
    const id = given && ACCEPTABLE.test(given) ? given : newRequestId();
    c.set('requestId', id);
    c.set('logger', base.child({ requestId: id }));
    c.header(header, id);
    await next();
  };
}
