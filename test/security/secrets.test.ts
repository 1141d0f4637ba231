// Keys: no key, a wrong key, a key in the query string — all 401 in OpenAI shape. And across a run
// of requests (good and bad keys, both backends, streams, upstream failures, a failed reload) the
// log — captured at trace level — holds no gateway key, no upstream API key and no AWS secret.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/logger.js';
import { azureErrors, startAzureSimulator, type AzureSimulator } from '../../src/simulators/azure/index.js';
import { startBedrockSimulator, type BedrockSimulator } from '../../src/simulators/bedrock/index.js';

const KEY = 'sk-secret-gateway-key-AAAA1111';
const OTHER = 'sk-secret-gateway-key-BBBB2222';
const WRONG = 'sk-secret-wrong-key-CCCC3333';
const AZURE_KEY = 'azure-upstream-secret-DDDD4444';
const AWS = { accessKeyId: 'AKIDSECRETTEST', secretAccessKey: 'aws-secret-access-key-EEEE5555' };
const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';
const SECRETS = [KEY, OTHER, WRONG, AZURE_KEY, AWS.secretAccessKey];

const lines: string[] = [];
let azure: AzureSimulator;
let bedrock: BedrockSimulator;
let gateway: Gateway;
let configFile: string;

const yaml = () => `
logging: { level: trace }
auth:
  keys:
    - { name: a, tenant: acme, key: ${KEY} }
    - { name: b, tenant: globex, key: ${OTHER} }
backends:
  azure: { type: azure-openai, endpoint: ${azure.url}, apiKey: ${AZURE_KEY}, apiVersion: "2024-10-21", deployments: { gpt-4o: gpt-4o-prod, ghost: no-such-deployment } }
  bedrock:
    type: bedrock
    region: us-east-1
    endpoint: ${bedrock.url}
    credentials: { accessKeyId: ${AWS.accessKeyId}, secretAccessKey: ${AWS.secretAccessKey} }
    models: { gpt-4o: "${SONNET}" }
metering: { ledger: { type: none } }
limits: { default: { requestsPerMinute: 1000 } }
`;

beforeAll(async () => {
  bedrock = await startBedrockSimulator({ region: 'us-east-1', credentials: AWS });
  azure = await startAzureSimulator({ apiKey: AZURE_KEY, deployments: { 'gpt-4o-prod': 'gpt-4o-2024-08-06' } });
  configFile = join(mkdtempSync(join(tmpdir(), 'sr-secrets-')), 'stateroute.yaml');
  writeFileSync(configFile, yaml());
  const destination = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  gateway = await startGateway({ config: parseConfig(yaml(), configFile, {}), configFile, env: {}, port: 0, logger: createLogger({ level: 'trace', destination }) });
});

afterAll(async () => {
  await gateway?.stop(0);
  await Promise.all([azure?.close(), bedrock?.close()]);
});

const call = (path: string, init: { key?: string; headers?: Record<string, string>; body?: unknown; method?: string } = {}) =>
  fetch(`${gateway.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.key ? { authorization: `Bearer ${init.key}` } : {}), 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
const hi = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] };

describe('gateway keys', () => {
  const cases: [string, () => Promise<Response>][] = [
    ['no key', () => call('/v1/chat/completions', { body: hi })],
    ['a wrong key', () => call('/v1/chat/completions', { key: WRONG, body: hi })],
    ['a wrong api-key header', () => call('/v1/chat/completions', { headers: { 'api-key': WRONG }, body: hi })],
    ['the key in ?api-key=', () => call(`/v1/chat/completions?api-key=${KEY}`, { body: hi })],
    ['the key in ?key=', () => call(`/v1/models?key=${KEY}`)],
    ['the key in ?api_key= and ?authorization=', () => call(`/v1/models?api_key=${KEY}&authorization=Bearer%20${KEY}`)],
    ['Basic instead of Bearer', () => call('/v1/models', { headers: { authorization: `Basic ${Buffer.from(`x:${KEY}`).toString('base64')}` } })],
    ['the key with a character changed', () => call('/v1/models', { key: KEY.slice(0, -1) + 'X' })],
    ['the key as a prefix of a longer one', () => call('/v1/models', { key: KEY + 'X' })],
    ['the key in a cookie', () => call('/v1/models', { headers: { cookie: `api-key=${KEY}; authorization=${KEY}` } })],
  ];
  for (const [name, send] of cases)
    it(`${name} → 401 invalid_api_key, the key not echoed`, async () => {
      const res = await send();
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(JSON.parse(text).error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error' });
      for (const s of SECRETS) expect(text).not.toContain(s);
    });

  it('the right key passes, as Bearer and as api-key', async () => {
    expect((await call('/v1/models', { key: KEY })).status).toBe(200);
    expect((await call('/v1/models', { headers: { 'api-key': OTHER } })).status).toBe(200);
  });
});

describe('no secret in the log', () => {
  it('after a run of good and bad requests, upstream failures, streams and a failed reload', async () => {
    const statuses: number[] = [];
    const run = async (res: Promise<Response>) => {
      const r = await res;
      const text = await r.text();
      statuses.push(r.status);
      for (const s of SECRETS) expect(text, `response to a request: ${r.status}`).not.toContain(s);
    };
    await run(call('/v1/chat/completions', { key: KEY, body: hi }));
    await run(call('/v1/chat/completions', { key: KEY, body: { ...hi, stream: true } }));
    await run(call('/v1/chat/completions', { key: KEY, headers: { 'x-session-id': 'sess-1' }, body: hi })); // Bedrock, SigV4-signed with the secret
    await run(call('/v1/chat/completions', { key: OTHER, headers: { 'x-session-id': 'sess-2' }, body: { ...hi, stream: true } }));
    await run(call('/v1/responses', { key: KEY, body: { model: 'gpt-4o', input: 'Hi' } }));
    await run(call('/v1/chat/completions', { key: KEY, body: { ...hi, model: 'ghost' } })); // Azure 404: deployment not found
    azure.faults.push({ ...azureErrors.rateLimited(1) });
    await run(call('/v1/chat/completions', { key: KEY, body: hi })); // Azure 429
    azure.faults.push({ cutAfterChunks: 1, resetConnection: true });
    await run(call('/v1/chat/completions', { key: KEY, body: { ...hi, stream: true } })); // stream cut
    await run(call('/v1/chat/completions', { key: WRONG, body: hi }));
    await run(call(`/v1/chat/completions?api-key=${KEY}`, { body: hi }));
    await run(call('/v1/chat/completions', { headers: { authorization: `Bearer ${KEY}`, 'api-key': KEY, cookie: `k=${KEY}`, 'x-api-key': AZURE_KEY }, body: { ...hi, api_key: AZURE_KEY, metadata: { secret: AWS.secretAccessKey } } }));
    await run(call('/v1/chat/completions', { key: KEY, body: '{"not json' }));
    // A reload whose config is wrong right next to the secrets.
    writeFileSync(configFile, yaml().replace(`key: ${OTHER}`, `key: ${OTHER}, extra: ${KEY}`).replace(`apiKey: ${AZURE_KEY}`, `apiKey: [${AZURE_KEY}]`));
    expect(await gateway.reload()).toBe(false);
    await gateway.stop(0); // flushes pending log lines
    expect(statuses).toContain(200);
    expect(statuses).toContain(401);
    expect(statuses.some((s) => s >= 500 || s === 429 || s === 404)).toBe(true);
    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(10);
    expect(log).toContain('config reload failed');
    if (process.env.SHOW_LOG) console.log(log);
    for (const s of SECRETS) expect(log, `log contains ${s.slice(0, 12)}…`).not.toContain(s);
  });
});

describe('config errors', () => {
  it('name the field, never the secret value', () => {
    const bad = `
auth: { keys: [ { name: a, tenant: acme, key: short-secret } ] }
backends:
  azure: { type: azure-openai, endpoint: "http://x", apiKey: { nested: ${AZURE_KEY} }, apiVersion: "2024-10-21" }
  bedrock: { type: bedrock, region: us-east-1, credentials: { accessKeyId: 7, secretAccessKey: [${AWS.secretAccessKey}] } }
`;
    let error: unknown;
    try {
      parseConfig(bad, 'bad.yaml', {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/auth\.keys\.0\.key/);
    for (const s of ['short-secret', AZURE_KEY, AWS.secretAccessKey]) expect(message).not.toContain(s);
  });
});
