// The Hono app: middleware order is request id → runtime snapshot → (for /v1) auth → body → limits → route.
import { Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Meter } from '../metering/meter.js';
import type { Runtime } from '../runtime.js';
import type { AppEnv } from './context.js';
import { metricsHandler } from './admin.js';
import { baseApp } from './base-app.js';
import { methodNotAllowed, onError, onNotFound } from './errors.js';
import { pipeline, under } from './pipeline.js';
import { gatewayAuth } from './middleware/auth.js';
import { corsFromConfig } from './middleware/cors.js';
import { jsonBody } from './middleware/json-body.js';
import { chatCompletions, type ChatRouteDeps } from './routes/chat.js';
import { embeddings } from './routes/embeddings.js';
import { registerModelRoutes } from './routes/models.js';

export interface GatewayOptions {
  /** The current runtime; read once per request, so a reload never changes a request midway. */
  runtime: () => Runtime;
  meter: Meter;
  logger: Logger;
  /** Readiness checks of long-lived dependencies (session store, ledger); name → ok. */
  readiness?: () => Promise<Record<string, boolean>>;
  openTurn?: ChatRouteDeps['openTurn'];
  /** Per-tenant limits (src/limits), run after auth and the body parser. */
  limits?: MiddlewareHandler<AppEnv>;
  /** Extra routes (Responses API, sessions admin) registered after the core ones. */
  extend?: (app: Hono<AppEnv>) => void;
}

export function createApp(options: GatewayOptions): Hono<AppEnv> {
  if (typeof options.runtime !== 'function') throw new Error('createApp: `runtime` must be a function returning the current Runtime');
  // CORS before auth: a browser's preflight carries no key. The /v1 layers run in the base app's one
  // Hono middleware, after the request id and runtime snapshot (pipeline.ts: `under`).
  const v1 = [corsFromConfig(), gatewayAuth(), jsonBody({ limits: () => options.runtime().config.server })];
  if (options.limits) v1.push(options.limits);
  const app = baseApp({ ...options, layers: [under('/v1', pipeline(onError, ...v1))] });
  app.get('/readyz', async (c) => {
    const runtime = c.get('runtime');
    const checks: Record<string, boolean> = { config: true, backends: runtime.backends.size > 0, ...(await options.readiness?.()) };
    const ready = Object.values(checks).every(Boolean);
    return c.json({ status: ready ? 'ready' : 'degraded', checks }, ready ? 200 : 503);
  });
  // With a separate admin listener the public port does not serve /metrics at all.
  const metrics = metricsHandler(options.meter);
  app.get('/metrics', (c, next) => (c.get('runtime').config.admin.listen ? onNotFound(c) : metrics(c, next)));

  const deps = { meter: options.meter, openTurn: options.openTurn };
  app.post('/v1/chat/completions', chatCompletions(deps));
  app.all('/v1/chat/completions', methodNotAllowed('POST'));
  app.post('/v1/embeddings', embeddings(deps));
  app.all('/v1/embeddings', methodNotAllowed('POST'));
  registerModelRoutes(app);
  options.extend?.(app);
  return app;
}
