// One JSON log line per request when its response starts (for a stream: when its headers go out;
// the stream's end is in the metrics and the ledger). Secrets never appear: only method, path,
// status, timing and the routing decision.
import type { Context, MiddlewareHandler, Next } from 'hono';
import type { AppEnv } from '../context.js';

export function accessLog(): MiddlewareHandler<AppEnv> {
  return function accessLogMiddleware(c, next) {
    // Below info level there is nothing to do after next(): no async layer for the request to go
    // through, no clock read.
    if (!c.get('logger')?.isLevelEnabled('info')) return next();
    return logAfter(c, next, performance.now());
  };
}

async function logAfter(c: Context<AppEnv>, next: Next, started: number): Promise<void> {
  await next();
  // Read after next(): the limiter may have given the request a new id (and logger).
  c.get('logger').info(
    {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      tenant: c.get('tenant'),
      route: c.get('responseHeaders').values['x-stateroute-route'],
      rule: c.get('responseHeaders').values['x-stateroute-rule'],
    },
    'request',
  );
}
