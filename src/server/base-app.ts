// The part of the app every listener (main and admin) shares.
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Runtime } from '../runtime.js';
import type { AppEnv } from './context.js';
import { onError, onNotFound } from './errors.js';
import { accessLog } from './middleware/access-log.js';
import { pipeline } from './pipeline.js';
import { requestId } from './middleware/request-id.js';

/** What every listener shares: OpenAI-shaped errors, a request id, the runtime snapshot, /healthz. */
export function baseApp(options: { runtime: () => Runtime; logger: Logger }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(onNotFound);
  // One Hono middleware for the three (pipeline.ts: each Hono layer is an async step of its own).
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
    ),
  );
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  return app;
}
