// resilience.timeouts.connectMs through the app, with the real backends and SDKs: an upstream whose
// connect hangs fails in about connectMs with a 504 upstream_connect_timeout, not after the
// headers/response timeout (4 s here: what an unwired connect timeout gives, undici's and the SDKs'
// own being 10 s), and a connect timeout is retried, then falls back. undici checks its connect
// timeout on a ~0.5 s clock, so the Azure transports fail after ~1 s rather than 0.3 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { buildRuntime, closeRuntime, type Runtime } from '../../src/runtime.js';
import { createApp } from '../../src/server/app.js';
import { startAzureSimulator, type AzureSimulator } from '../../src/simulators/azure/index.js';
import { RecordingMeter, TEST_KEY } from '../helpers/app.js';
import { hangingConnect, type HangingUpstream } from '../helpers/hanging-connect.js';

const CONNECT_MS = 300;
const logger = createLogger({ level: 'silent' });

let hanging: HangingUpstream;
let azureSim: AzureSimulator;
const runtimes: Runtime[] = [];
beforeAll(async () => {
  [hanging, azureSim] = await Promise.all([hangingConnect(), startAzureSimulator({ apiKey: 'sim-key', deployments: { chat: 'gpt-4o-2024-08-06' } })]);
});
afterAll(async () => {
  await Promise.all(runtimes.map(closeRuntime));
  await Promise.all([hanging?.close(), azureSim?.close()]);
});

/** The app over real backends built from `backends` (YAML) and one route `main` to `hung`. */
function gateway(backends: string, route: string) {
  const config = parseConfig(
    `
auth: { keys: [{ name: t, tenant: acme, key: ${TEST_KEY} }] }
backends:
${backends}
routes:
  main: ${route}
default: main
`,
    'connect-timeout.yaml',
    {},
  );
  const runtime = buildRuntime(config, logger);
  runtimes.push(runtime);
  const meter = new RecordingMeter();
  return { app: createApp({ runtime: () => runtime, meter, logger }), meter };
}

const hung = () => `http://127.0.0.1:${hanging.port}`;
const azure = (transport: string) =>
  `  hung: { type: azure-openai, endpoint: "${hung()}", apiKey: k, apiVersion: "2024-10-21", transport: ${transport}, deployments: { gpt-4o: chat, emb: embed } }`;
const bedrock = () =>
  `  hung: { type: bedrock, region: us-east-1, endpoint: "${hung()}", credentials: { accessKeyId: AKID, secretAccessKey: SECRET }, models: { gpt-4o: "anthropic.claude-haiku-4-5-20251001-v1:0" } }`;
/** One attempt, so the time is one connect; headers/response at 4 s, so an unbounded connect shows. */
const oneAttempt = (kind: string) =>
  `{ kind: ${kind}, backend: hung, resilience: { timeouts: { connectMs: ${CONNECT_MS}, headersMs: 4000, responseMs: 4000 }, retries: { maxAttempts: 1 } } }`;

const post = (body: unknown) =>
  ({ method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }) as const;
const chat = (stream: boolean) => post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream });

async function timed(app: ReturnType<typeof gateway>['app'], path: string, init: RequestInit) {
  const started = performance.now();
  const res = await app.request(path, init);
  const body = (await res.json()) as { error: Record<string, unknown> };
  return { status: res.status, error: body.error, ms: performance.now() - started };
}

const connectTimeout = { type: 'timeout_error', code: 'upstream_connect_timeout', message: `The upstream did not accept a connection within ${CONNECT_MS} ms.` };

describe('a hanging connect fails in about connectMs with 504 upstream_connect_timeout', () => {
  const embeddings = post({ model: 'emb', input: 'hi' });
  it.each([
    ['azure pass-through, chat', () => azure('passthrough'), 'stateless', '/v1/chat/completions', chat(false)],
    ['azure pass-through, streamed chat', () => azure('passthrough'), 'stateless', '/v1/chat/completions', chat(true)],
    ['azure SDK transport, chat', () => azure('sdk'), 'stateless', '/v1/chat/completions', chat(false)],
    ['azure SDK transport, embeddings', () => azure('passthrough'), 'stateless', '/v1/embeddings', embeddings],
    ['bedrock (AWS SDK)', bedrock, 'stateful', '/v1/chat/completions', chat(false)],
    ['bedrock (AWS SDK), streamed', bedrock, 'stateful', '/v1/chat/completions', chat(true)],
  ])('%s', async (_name, backends, kind, path, init) => {
    const { status, error, ms } = await timed(gateway(backends(), oneAttempt(kind)).app, path, init);
    expect({ status, error }).toEqual({ status: 504, error: { ...connectTimeout, param: null } });
    expect(ms).toBeGreaterThanOrEqual(CONNECT_MS - 20);
    expect(ms).toBeLessThan(2500);
  });
});

describe('a connect timeout is a target failure', () => {
  it('retried on the same target, then the fallback answers', async () => {
    const ok = `  ok: { type: azure-openai, endpoint: "${azureSim.url}", apiKey: sim-key, apiVersion: "2024-10-21", deployments: { gpt-4o: chat } }`;
    const route = `{ kind: stateless, backend: hung, fallbacks: [{ backend: ok }], resilience: { timeouts: { connectMs: ${CONNECT_MS}, headersMs: 4000, responseMs: 4000 }, retries: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 } } }`;
    const { app, meter } = gateway(`${azure('passthrough')}\n${ok}`, route);
    const started = performance.now();
    const res = await app.request('/v1/chat/completions', chat(false));
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.headers.get('x-stateroute-fallback')).toBe('ok/gpt-4o');
    // Two connects of connectMs each on the primary, then the fallback at once.
    expect(ms).toBeGreaterThanOrEqual(2 * CONNECT_MS - 40);
    expect(ms).toBeLessThan(3500);
    const metrics = await meter.metrics.metrics();
    expect(metrics).toContain('stateroute_retries_total{backend="hung"} 1');
    expect(metrics).toContain('stateroute_upstream_errors_total{backend="hung",error_type="upstream_connect_timeout"} 2');
  });
});
