// Everything derived from one config: built at start and again on each successful reload, then
// swapped atomically. Requests hold the snapshot they started with.
import type { Logger } from 'pino';
import { backendFactory } from './backends/registry.js';
import type { Backend } from './backends/types.js';
import type { Config } from './config/schema.js';
import { connectMsByBackend } from './resilience/route.js';
import { compileRouter, type Router } from './routing/compile.js';
import { keyIndex, type KeyEntry } from './server/middleware/auth.js';

export interface Runtime {
  config: Config;
  backends: ReadonlyMap<string, Backend>;
  router: Router;
  keys: KeyEntry[];
}

export function buildRuntime(config: Config, logger: Logger): Runtime {
  const backends = new Map<string, Backend>();
  // connectMs shapes the backends' connection pools, yet it is reloadable, not restart-only (gateway.ts):
  // every reload builds new backends anyway, so requests started after it connect with the new value
  // while those in flight finish on the old pools.
  const connectMs = connectMsByBackend(config);
  for (const [name, backendConfig] of Object.entries(config.backends)) {
    const factory = backendFactory(backendConfig.type as string);
    backends.set(name, factory.create({ name, config: backendConfig as never, logger: logger.child({ backend: name }), connectMs: connectMs.get(name)! }));
  }
  return { config, backends, router: compileRouter(config), keys: keyIndex(config.auth) };
}

export async function closeRuntime(runtime: Runtime): Promise<void> {
  await Promise.allSettled([...runtime.backends.values()].map((b) => b.close?.()));
}
