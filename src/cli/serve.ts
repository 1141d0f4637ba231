import { ConfigError, loadConfigFile } from '../config/load.js';
import { startGateway, type Gateway } from '../gateway.js';

/** Installs SIGTERM/SIGINT handlers that drain the gateway(s) and exit 0. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: draining…\n`);
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
}

export async function runServe(options: { configFile: string; port?: string | undefined }): Promise<number> {
  let gateway: Gateway;
  try {
    const config = loadConfigFile(options.configFile);
    const port = options.port ?? process.env.PORT;
    gateway = await startGateway({ config, configFile: options.configFile, port: port === undefined ? undefined : Number(port) });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  stopOnSignals(() => gateway.stop());
  return -1;
}
