import { ConfigError, loadConfigFile } from '../config/load.js';

export function runCheck(options: { configFile: string; out: (s: string) => void; err: (s: string) => void }): number {
  try {
    const config = loadConfigFile(options.configFile);
    const routes = Object.keys(config.routes ?? {}).length;
    options.out(
      `ok: ${options.configFile} — ${Object.keys(config.backends).length} backend(s), ` +
        `${routes ? `${routes} route(s)` : 'built-in routes'}, ${config.rules.length} rule(s)\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      options.err(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
