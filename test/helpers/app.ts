import type { Logger } from 'pino';
// Builds a gateway app around fake backends, without the backend registry or the network.
import { createApp } from '../../src/server/app.js';
import { parseConfig } from '../../src/config/load.js';
import { compileRouter } from '../../src/routing/compile.js';
import { keyIndex } from '../../src/server/middleware/auth.js';
import type { Runtime } from '../../src/runtime.js';
import type { Meter, MeterRecordInput } from '../../src/metering/meter.js';
import { createMetrics } from '../../src/metering/metrics.js';
import { createLogger } from '../../src/logger.js';
import { FakeBackend } from './fake-backend.js';
import { createSessionStore, type SessionStore } from '../../src/sessions/index.js';
import { sessionTurns } from '../../src/server/session-turn.js';
import { registerSessionRoutes } from '../../src/server/routes/sessions.js';

export const TEST_KEY = 'sk-test-0123456789abcdef';
export const OTHER_KEY = 'sk-other-0123456789abcdef';

export const BASE_CONFIG = `
auth:
  keys:
    - { name: test, tenant: acme, key: ${TEST_KEY} }
    - { name: other, tenant: globex, key: ${OTHER_KEY} }
backends:
  azure: { type: azure-openai, endpoint: "http://127.0.0.1:1", apiKey: k, apiVersion: "2024-10-21" }
  bedrock: { type: bedrock, region: us-east-1 }
server: { bodyLimitBytes: 2048 }
`;

export class RecordingMeter implements Meter {
  records: MeterRecordInput[] = [];
  metrics = createMetrics({ knownModels: ['gpt-4o'], collectDefault: false });
  record(input: MeterRecordInput): undefined {
    this.records.push(input);
    return undefined;
  }
  reconfigure(): void {}
  async close(): Promise<void> {}
}

export function fakeGateway(yaml = BASE_CONFIG, options: { sessions?: SessionStore; logger?: Logger } = {}) {
  const config = parseConfig(yaml, 'test.yaml', {});
  const stateless = new FakeBackend('azure', 'stateless');
  const stateful = new FakeBackend('bedrock', 'stateful', ['claude']);
  const runtime: Runtime = { config, backends: new Map([['azure', stateless], ['bedrock', stateful]] as const), router: compileRouter(config), keys: keyIndex(config.auth) };
  const meter = new RecordingMeter();
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const sessions = options.sessions ?? createSessionStore(config.sessions, logger);
  const app = createApp({
    runtime: () => runtime,
    meter,
    logger,
    openTurn: sessionTurns(sessions),
    extend: (a) => registerSessionRoutes(a, sessions),
  });
  return { app, runtime, meter, stateless, stateful, sessions };
}
