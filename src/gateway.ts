// Assembles a running gateway from a validated config: the runtime snapshot (hot-reloadable),
// the long-lived parts (meter, session store) and the HTTP listener, and tears it down in order.
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { createLogger } from './logger.js';
import { createMeter, type Meter } from './metering/meter.js';
import { buildRuntime, closeRuntime, type Runtime } from './runtime.js';
import { createApp } from './server/app.js';
import { listen, type Listening } from './server/serve.js';

export interface GatewayStartOptions {
  config: Config;
  /** The file the config came from; enables hot reload on SIGHUP and on file change. */
  configFile?: string;
  logger?: Logger;
  /** Overrides of config.listen (tests use port 0). */
  host?: string;
  port?: number;
}

export interface Gateway {
  url: string;
  port: number;
  runtime(): Runtime;
  meter: Meter;
  logger: Logger;
  /** Drain in-flight requests up to the configured grace period, then release everything. */
  stop(graceMs?: number): Promise<void>;
}

export async function startGateway(options: GatewayStartOptions): Promise<Gateway> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logging.level });
  if (config.auth.mode === 'none') logger.warn('auth.mode is "none": every client can use this gateway without a key');
  let current = buildRuntime(config, logger);
  const knownModels = [...current.backends.values()].flatMap((b) => b.models());
  const meter = createMeter({ config: config.metering, logger: logger.child({ component: 'metering' }), knownModels });
  const app = createApp({ runtime: () => current, meter, logger });
  let listening: Listening;
  try {
    listening = await listen(app, { host: options.host ?? config.listen.host, port: options.port ?? config.listen.port });
  } catch (err) {
    await meter.close();
    await closeRuntime(current);
    throw err;
  }
  logger.info({ url: listening.url }, 'stateroute listening');

  let stopping: Promise<void> | undefined;
  return {
    url: listening.url,
    port: listening.port,
    runtime: () => current,
    meter,
    logger,
    stop(graceMs = current.config.server.shutdownGraceMs) {
      stopping ??= (async () => {
        const { forced } = await listening.drain(graceMs);
        if (forced) logger.warn({ forced }, 'shutdown deadline passed; closed requests still in flight');
        await meter.close();
        await closeRuntime(current);
      })();
      return stopping;
    },
  };
}
