// Operator surfaces: /metrics, optionally behind an admin key, optionally on its own listener so
// the public port never serves it.
import type { Handler, Hono } from 'hono';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import type { Meter } from '../metering/meter.js';
import type { Runtime } from '../runtime.js';
import { baseApp } from './base-app.js';
import type { AppEnv } from './context.js';
import { bearerKey, findKey, sha256 } from './middleware/auth.js';

/** Serves the exposition text; checks the admin key from the request's runtime snapshot when one is set. */
export function metricsHandler(meter: Meter): Handler<AppEnv> {
  return async function metrics(c) {
    const key = c.get('runtime').config.admin.key;
    if (key) {
      const presented = bearerKey(c.req.header('authorization'));
      if (!presented || !findKey([{ name: 'admin', tenant: 'admin', digest: sha256(key) }], presented))
        throw new GatewayError({ status: 401, message: 'The admin key is required for /metrics.', code: 'invalid_admin_key', headers: { 'www-authenticate': 'Bearer' } });
    }
    return c.body(await meter.metrics.metrics(), 200, { 'content-type': meter.metrics.contentType });
  };
}

export function createAdminApp(options: { runtime: () => Runtime; meter: Meter; logger: Logger }): Hono<AppEnv> {
  const app = baseApp(options);
  app.get('/metrics', metricsHandler(options.meter));
  return app;
}
