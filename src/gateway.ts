// Assembles a running gateway from a validated config: the runtime snapshot (hot-reloadable),
// the long-lived parts (meter, session store) and the HTTP listener, and tears it down in order.
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { createReloader, type Reloader } from './config/watch.js';
import { limiterFromConfig } from './limits/index.js';
import { createLogger } from './logger.js';
import { createMeter, type Meter } from './metering/meter.js';
import { buildRuntime, closeRuntime, type Runtime } from './runtime.js';
import { createAdminApp } from './server/admin.js';
import { createApp } from './server/app.js';
import { registerResponsesRoutes } from './server/responses/index.js';
import { registerSessionRoutes } from './server/routes/sessions.js';
import type { AppEnv } from './server/context.js';
import { listen, type Listening } from './server/serve.js';
import { sessionTurns } from './server/session-turn.js';
import { createSessionStore, type SessionStore } from './sessions/index.js';

export interface GatewayStartOptions {
  config: Config;
  /** The file the config came from; enables hot reload on SIGHUP and on file change. */
  configFile?: string;
  /** Applied to every config read from the file on reload, as it was to `config` (a worker's own ledger dir). */
  adjust?: (config: Config) => Config;
  /** Environment for ${VAR} interpolation on reload (default process.env). */
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** Overrides of config.listen (tests use port 0). */
  host?: string;
  port?: number;
}

export interface Gateway {
  url: string;
  port: number;
  /** The admin listener's URL, when `admin.listen` is set. */
  adminUrl?: string;
  runtime(): Runtime;
  /** The Hono app behind the listener, for in-process callers (`app.request()` in benchmarks). */
  app: Hono<AppEnv>;
  meter: Meter;
  sessions: SessionStore;
  logger: Logger;
  /** Re-read the config file now (what SIGHUP does); false when it was invalid and the old one stays. */
  reload(): Promise<boolean>;
  /** Drain in-flight requests up to the configured grace period, then release everything. */
  stop(graceMs?: number): Promise<void>;
}

// Sections that shape long-lived objects (listener, session store, ledger, limit counters): a reload
// cannot change them, so it says so.
const RESTART_ONLY: [section: string, read: (c: Config) => unknown][] = [
  ['listen', (c) => c.listen],
  ['sessions', (c) => c.sessions],
  ['metering.ledger', (c) => c.metering.ledger],
  ['limits.store', (c) => c.limits.store],
];

const modelsOf = (runtime: Runtime) => [...runtime.backends.values()].flatMap((b) => b.models());

export async function startGateway(options: GatewayStartOptions): Promise<Gateway> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logging.level });
  if (config.auth.mode === 'none') logger.warn('auth.mode is "none": every client can use this gateway without a key');

  const initial = buildRuntime(config, logger);
  for (const note of initial.router.notes) logger.warn({ routing: 'note' }, note);
  const meter = createMeter({ config: config.metering, logger: logger.child({ component: 'metering' }), knownModels: modelsOf(initial) });
  const sessions = createSessionStore(config.sessions, logger.child({ component: 'sessions' }));
  meter.metrics.setActiveSessionsSource(() => sessions.stats().then((s) => s.sessions ?? 0, () => 0));
  let reloader: Reloader<Runtime> | undefined;
  if (options.configFile) {
    let first = true;
    reloader = await createReloader<Runtime>({
      file: options.configFile,
      env: options.env,
      logger,
      build: (read) => {
        const next = options.adjust ? options.adjust(read) : read;
        if (first) {
          first = false;
          return initial;
        }
        for (const [section, read] of RESTART_ONLY)
          if (JSON.stringify(read(next)) !== JSON.stringify(read(config)))
            logger.warn({ section }, `config section "${section}" changed; it takes effect at the next restart`);
        const runtime = buildRuntime(next, logger);
        meter.reconfigure({ config: next.metering, knownModels: modelsOf(runtime) });
        const previous = current();
        // Requests still running on the old snapshot keep its backends until they finish.
        setTimeout(() => void closeRuntime(previous), next.server.shutdownGraceMs + 1000).unref();
        return runtime;
      },
      onResult: (ok) => meter.metrics.configReload(ok ? 'success' : 'failure'),
    });
  }
  const current = (): Runtime => reloader?.current() ?? initial;

  // Limits are read from the current runtime per request; their store (memory or Redis) is fixed at start.
  const limiter = limiterFromConfig({ config: () => current().config.limits, logger: logger.child({ component: 'limits' }) });
  // Handlers record through the limiter, so each request's end settles its lease (slot, tokens, spend).
  const metered = limiter.observe(meter);

  const app = createApp({
    runtime: current,
    meter: metered,
    logger,
    limits: limiter.middleware,
    openTurn: sessionTurns(sessions),
    readiness: async () => ({ sessions: await sessions.ping().then(() => true, () => false) }),
    extend: (a) => {
      registerSessionRoutes(a, sessions, (turns) => meter.metrics.sessionEnded(turns));
      registerResponsesRoutes(a, { meter: metered, documents: sessions });
    },
  });

  let listening: Listening;
  try {
    listening = await listen(app, { host: options.host ?? config.listen.host, port: options.port ?? config.listen.port });
  } catch (err) {
    reloader?.close();
    await Promise.allSettled([meter.close(), sessions.close(), closeRuntime(initial), limiter.close()]);
    throw err;
  }
  let admin: Listening | undefined;
  if (config.admin.listen) {
    admin = await listen(createAdminApp({ runtime: current, meter, logger }), config.admin.listen);
    logger.info({ url: admin.url }, 'admin listener (metrics) up');
  } else if (!config.admin.key) {
    logger.info('/metrics is served on the main port without an admin key (set admin.key or admin.listen to restrict it)');
  }
  logger.info({ url: listening.url }, 'stateroute listening');

  let stopping: Promise<void> | undefined;
  return {
    url: listening.url,
    port: listening.port,
    adminUrl: admin?.url,
    runtime: current,
    app,
    meter,
    sessions,
    logger,
    reload: () => reloader?.reload() ?? Promise.resolve(false),
    stop(graceMs = current().config.server.shutdownGraceMs) {
      stopping ??= (async () => {
        reloader?.close();
        const { forced } = await listening.drain(graceMs);
        await admin?.drain(0);
        if (forced) logger.warn({ forced }, 'shutdown deadline passed; closed requests still in flight');
        // The ledger flushes last, after every request has been metered.
        await Promise.allSettled([sessions.close(), closeRuntime(current()), limiter.close()]);
        await meter.close();
      })();
      return stopping;
    },
  };
}
