// One JSON log line per request when its response starts (for a stream: when its headers go out;
// the stream's end is in the metrics and the ledger). Secrets never appear: only method, path,
// status, timing and the routing decision.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.js';

export function accessLog(): MiddlewareHandler<AppEnv> {
  return async function accessLogMiddleware(c, next) {
    const started = performance.now();
    await next();
    const logger = c.get('logger');
    if (!logger?.isLevelEnabled('info')) return;
    logger.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        tenant: c.get('tenant'),
        route: c.res.headers.get('x-stateroute-route') ?? undefined,
        rule: c.res.headers.get('x-stateroute-rule') ?? undefined,
      },
      'request',
    );
  };
}
