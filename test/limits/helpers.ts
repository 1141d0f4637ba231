// A gateway app on fake backends with a real meter (known prices) and the limiter wired as the
// gateway wires it, on a clock the test moves.
import type { Logger } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { createLimiter, type Limiter } from '../../src/limits/limiter.js';
import { MemoryLimitStore } from '../../src/limits/memory.js';
import type { LimitStore } from '../../src/limits/store.js';
import { createLogger } from '../../src/logger.js';
import { createMeter } from '../../src/metering/meter.js';
import { createMetrics } from '../../src/metering/metrics.js';
import type { LedgerRecord, LedgerSink } from '../../src/metering/ledger/index.js';
import { compileRouter } from '../../src/routing/compile.js';
import type { Runtime } from '../../src/runtime.js';
import { createApp } from '../../src/server/app.js';
import { keyIndex } from '../../src/server/middleware/auth.js';
import { registerResponsesRoutes } from '../../src/server/responses/index.js';
import { registerSessionRoutes } from '../../src/server/routes/sessions.js';
import { sessionTurns } from '../../src/server/session-turn.js';
import { createSessionStore } from '../../src/sessions/index.js';
import { FakeBackend } from '../helpers/fake-backend.js';

export const KEY_A = 'sk-limits-acme-0123456789';
export const KEY_B = 'sk-limits-globex-0123456789';

/** $1000 per 1M tokens either way: the fake's default usage (10 in + 3 out) costs exactly $0.013. */
export const COST_PER_REQUEST = 0.013;

export function configYaml(limitsYaml: string, extra = ''): string {
  return `
auth:
  keys:
    - { name: a, tenant: acme, key: ${KEY_A} }
    - { name: b, tenant: globex, key: ${KEY_B} }
backends:
  azure: { type: azure-openai, endpoint: "http://127.0.0.1:1", apiKey: k, apiVersion: "2024-10-21" }
  bedrock: { type: bedrock, region: us-east-1 }
metering:
  ledger: { type: none }
  prices: { gpt-4o-fake: { input: 1000, output: 1000 } }
limits:
${limitsYaml.replace(/^/gm, '  ')}
${extra}`;
}

class MemoryLedger implements LedgerSink {
  records: LedgerRecord[] = [];
  write(r: LedgerRecord) {
    this.records.push(r);
  }
  queueDepth() {
    return 0;
  }
  async flush() {}
  async close() {}
}

export interface LimitedApp {
  app: ReturnType<typeof createApp>;
  limiter: Limiter;
  stateless: FakeBackend;
  stateful: FakeBackend;
  clock: { now: number };
  ledger: MemoryLedger;
  /** Settlements run after the response; wait for them before checking the next admission. */
  settled(): Promise<void>;
}

export function limitedApp(limitsYaml: string, options: { store?: LimitStore; start?: number; logger?: Logger; extraYaml?: string } = {}): LimitedApp {
  const config = parseConfig(configYaml(limitsYaml, options.extraYaml), 'limits.yaml', {});
  const stateless = new FakeBackend('azure', 'stateless');
  const stateful = new FakeBackend('bedrock', 'stateful', ['claude']);
  const runtime: Runtime = { config, backends: new Map([['azure', stateless], ['bedrock', stateful]] as const), router: compileRouter(config), keys: keyIndex(config.auth) };
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const ledger = new MemoryLedger();
  const meter = createMeter({ config: config.metering, logger, knownModels: ['gpt-4o'], metrics: createMetrics({ knownModels: ['gpt-4o'], collectDefault: false }), ledger });
  const clock = { now: options.start ?? Date.UTC(2026, 10, 25, 12, 0, 0) };
  const limiter = createLimiter({ store: options.store ?? new MemoryLimitStore(), config: () => runtime.config.limits, logger, now: () => clock.now });
  const metered = limiter.observe(meter);
  const sessions = createSessionStore(config.sessions, logger);
  const app = createApp({
    runtime: () => runtime,
    meter: metered,
    logger,
    limits: limiter.middleware,
    openTurn: sessionTurns(sessions),
    extend: (a) => {
      registerSessionRoutes(a, sessions);
      registerResponsesRoutes(a, { meter: metered, documents: sessions });
    },
  });
  return {
    app,
    limiter,
    stateless,
    stateful,
    clock,
    ledger,
    settled: async () => {
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      await limiter.settled();
    },
  };
}

export const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], ...extra });

export function post(app: LimitedApp['app'], body: unknown, options: { key?: string; path?: string; headers?: Record<string, string>; signal?: AbortSignal } = {}) {
  return app.request(options.path ?? '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${options.key ?? KEY_A}`, 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify(body),
    signal: options.signal,
  });
}

/** A response's JSON, for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = async (res: Response): Promise<any> => res.json();
