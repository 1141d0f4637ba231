// A gateway with the Responses routes over fake backends and an in-memory DocumentStore, plus an
// HTTP listener and official openai clients for two tenants.
import OpenAI from 'openai';
import { createApp } from '../../../src/server/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { compileRouter } from '../../../src/routing/compile.js';
import { keyIndex } from '../../../src/server/middleware/auth.js';
import { listen, type Listening } from '../../../src/server/serve.js';
import type { Runtime } from '../../../src/runtime.js';
import { createLogger } from '../../../src/logger.js';
import { registerResponsesRoutes, type DocumentStore } from '../../../src/server/responses/index.js';
import { FakeBackend } from '../../helpers/fake-backend.js';
import { RecordingMeter } from '../../helpers/app.js';

export const KEY_A = 'sk-tenant-a-0123456789abcdef';
export const KEY_B = 'sk-tenant-b-0123456789abcdef';

const CONFIG = `
auth:
  keys:
    - { name: a, tenant: acme, key: ${KEY_A} }
    - { name: b, tenant: globex, key: ${KEY_B} }
backends:
  azure: { type: azure-openai, endpoint: "http://127.0.0.1:1", apiKey: k, apiVersion: "2024-10-21" }
  bedrock: { type: bedrock, region: us-east-1 }
server: { bodyLimitBytes: 65536 }
# Responses go stateless here unless a session header says otherwise, so the tests script one fake.
routes:
  stateless: { kind: stateless, backend: azure }
  stateful: { kind: stateful, backend: bedrock }
rules:
  - { name: session-header, when: { header: x-session-id }, route: stateful }
default: stateless
`;

/** Documents are kept as JSON text, so anything that would not survive Redis fails here too. */
export class MemoryDocuments implements DocumentStore {
  readonly docs = new Map<string, { json: string; ttlSeconds: number }>();
  puts = 0;
  gets = 0;
  failPuts = false;
  private key = (tenant: string, kind: string, id: string) => `${tenant}\u0000${kind}\u0000${id}`;
  async putDocument(tenant: string, kind: 'response', id: string, doc: unknown, ttlSeconds: number): Promise<void> {
    if (this.failPuts) throw new Error('store down');
    this.puts++;
    this.docs.set(this.key(tenant, kind, id), { json: JSON.stringify(doc), ttlSeconds });
  }
  async getDocument(tenant: string, kind: 'response', id: string): Promise<unknown | undefined> {
    this.gets++;
    const entry = this.docs.get(this.key(tenant, kind, id));
    return entry ? JSON.parse(entry.json) : undefined;
  }
  async deleteDocument(tenant: string, kind: 'response', id: string): Promise<boolean> {
    return this.docs.delete(this.key(tenant, kind, id));
  }
}

export function responsesGateway(options: { ttlSeconds?: number } = {}) {
  const config = parseConfig(CONFIG, 'test.yaml', {});
  const stateless = new FakeBackend('azure', 'stateless');
  const stateful = new FakeBackend('bedrock', 'stateful', ['claude']);
  const runtime: Runtime = { config, backends: new Map([['azure', stateless], ['bedrock', stateful]] as const), router: compileRouter(config), keys: keyIndex(config.auth) };
  const meter = new RecordingMeter();
  const documents = new MemoryDocuments();
  const app = createApp({
    runtime: () => runtime,
    meter,
    logger: createLogger({ level: 'silent' }),
    extend: (a) => registerResponsesRoutes(a, { meter, documents, ttlSeconds: options.ttlSeconds }),
  });
  return { app, runtime, meter, documents, stateless, stateful };
}

export async function startResponsesGateway(options: { ttlSeconds?: number } = {}) {
  const g = responsesGateway(options);
  const server: Listening = await listen(g.app, { host: '127.0.0.1', port: 0 });
  const client = new OpenAI({ apiKey: KEY_A, baseURL: `${server.url}/v1`, maxRetries: 0 });
  const other = new OpenAI({ apiKey: KEY_B, baseURL: `${server.url}/v1`, maxRetries: 0 });
  return { ...g, server, client, other, url: server.url };
}

export const authA = { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' };
