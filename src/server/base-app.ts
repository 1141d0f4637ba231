// The part of the app every listener (main and admin) shares.
import { Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Runtime } from '../runtime.js';
import type { AppEnv } from './context.js';
import { onError, onNotFound } from './errors.js';
import { accessLog } from './middleware/access-log.js';
import { pipeline } from './pipeline.js';
import { requestId } from './middleware/request-id.js';

/** What every listener shares: OpenAI-shaped errors, a request id, the runtime snapshot, /healthz.
 * `layers` run after those, in the same Hono middleware (wrap one in `under` to scope it). */
export function baseApp(options: { runtime: () => Runtime; logger: Logger; layers?: MiddlewareHandler<AppEnv>[] }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(onNotFound);
  // One Hono middleware for the three and the caller's (pipeline.ts: each Hono layer is an async step of its own).
  app.use(
    '*',
    pipeline(
      onError,
      requestId({ logger: options.logger }),
      accessLog(),
      function runtimeSnapshot(c, next) {
        c.set('runtime', options.runtime());
        return next();
      },
      ...(options.layers ?? []),
    ),
  );
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  return app;
}
