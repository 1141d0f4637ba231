// Three `stateroute serve` processes against one Redis session store and one PostgreSQL ledger act
// as one gateway: one session's turns go round-robin across them while stateless load runs on all
// three; no turn is lost or duplicated (the stored history and what the Bedrock simulator
// received), and the ledger rows add up per process and to the tokens the clients were shown.
// Needs Redis and PostgreSQL; under CI an unreachable one fails the file.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureSimulator, type AzureSimulator } from '../../src/simulators/azure/index.js';
import { startBedrockSimulator, type BedrockSimulator } from '../../src/simulators/bedrock/index.js';
import { PG_URL, postgresReachable } from '../metering/helpers.js';
import { REDIS_URL, requireRedis } from '../helpers/redis.js';

const PROCESSES = 3;
const TURNS = 9;
const STATELESS_PER_PROCESS = 12;
const KEY = 'sk-multiprocess-0123456789';
const AWS = { accessKeyId: 'AKIDMULTIPROCESS', secretAccessKey: 'multiprocess-secret' };
const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';

const hasRedis = await requireRedis();
const hasPg = await postgresReachable();
if (!hasPg && process.env.CI) throw new Error(`PostgreSQL is required in CI and is not reachable at ${PG_URL}`);
if (!hasPg) console.warn(`skipping the multi-process test: PostgreSQL is not reachable at ${PG_URL}`);
const ready = hasRedis && hasPg;

const run = randomUUID().replaceAll('-', '').slice(0, 12);
const table = `stateroute_usage_mp_${run}`;
const keyPrefix = `stateroute-mp-${run}:`;

interface Proc {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  output: () => string;
}

let azure: AzureSimulator;
let bedrock: BedrockSimulator;
const procs: Proc[] = [];

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function startServe(configFile: string): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', configFile, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${out}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (i > 200) throw new Error(`serve did not become ready: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, exited, output: () => out };
}

beforeAll(async () => {
  if (!ready) return;
  azure = await startAzureSimulator({ apiKey: 'azure-mp-key', deployments: { 'gpt-4o-prod': 'gpt-4o-2024-08-06' } });
  bedrock = await startBedrockSimulator({ region: 'us-east-1', credentials: AWS });
  const dir = mkdtempSync(join(tmpdir(), 'sr-multiprocess-'));
  const configFile = join(dir, 'stateroute.yaml');
  writeFileSync(
    configFile,
    `listen: { host: 127.0.0.1, port: 0 }
server: { shutdownGraceMs: 5000 }
logging: { level: warn }
auth: { keys: [ { name: mp, tenant: mp, key: ${KEY} } ] }
backends:
  azure: { type: azure-openai, endpoint: "${azure.url}", apiKey: azure-mp-key, apiVersion: "2024-10-21", deployments: { gpt-4o: gpt-4o-prod } }
  bedrock:
    type: bedrock
    region: us-east-1
    endpoint: ${bedrock.url}
    credentials: { accessKeyId: ${AWS.accessKeyId}, secretAccessKey: ${AWS.secretAccessKey} }
    models: { gpt-4o: "${SONNET}" }
sessions: { store: { type: redis, url: "${REDIS_URL}", keyPrefix: "${keyPrefix}" } }
metering:
  equivalents: { gpt-4o: "${SONNET}" }
  ledger: { type: postgres, url: "${PG_URL}", table: ${table}, flushIntervalMs: 100, spillDir: "${join(dir, 'spill')}" }
`,
  );
  procs.push(...(await Promise.all(Array.from({ length: PROCESSES }, () => startServe(configFile)))));
}, 60_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.allSettled([azure?.close(), bedrock?.close()]);
  if (!ready) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.end();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

interface Seen {
  requestId: string;
  process: number;
  prompt: number;
  completion: number;
}

async function chat(p: number, requestId: string, body: Record<string, unknown>, session?: string): Promise<Seen> {
  const res = await fetch(`${procs[p]!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': requestId, ...(session ? { 'x-session-id': session } : {}) },
    body: JSON.stringify({ model: 'gpt-4o', ...body }),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  // (Streamed answers do not echo x-request-id today; the ledger check below still ties each row to its request.)
  if (!body.stream) expect(res.headers.get('x-request-id')).toBe(requestId);
  let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  if (body.stream) {
    expect(text).toMatch(/data: \[DONE\]\n\n$/);
    for (const line of text.split('\n'))
      if (line.startsWith('data: {') && line.includes('"usage":{')) usage = (JSON.parse(line.slice(6)) as { usage: typeof usage }).usage;
  } else usage = (JSON.parse(text) as { usage: typeof usage }).usage;
  expect(usage, `usage of ${requestId}`).toBeDefined();
  return { requestId, process: p, prompt: usage!.prompt_tokens, completion: usage!.completion_tokens };
}

describe.skipIf(!ready)(`${PROCESSES} gateway processes, one Redis, one PostgreSQL`, () => {
  it('a session round-robin across processes keeps every turn once; the ledger adds up', { timeout: 90_000 }, async () => {
    const session = `mp-session-${run}`;
    const seen: Seen[] = [];

    const turns = (async () => {
      for (let t = 0; t < TURNS; t++)
        seen.push(await chat(t % PROCESSES, `mp-p${t % PROCESSES}-turn-${t}`, { messages: [{ role: 'user', content: `turn ${t}` }] }, session));
    })();
    const load = Promise.all(
      Array.from({ length: PROCESSES * STATELESS_PER_PROCESS }, async (_, i) => {
        const p = i % PROCESSES;
        const stream = i % 3 === 0;
        const body = stream
          ? { stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `stateless stream ${i}` }] }
          : { messages: [{ role: 'user', content: `stateless ${i} ${'word '.repeat(i)}` }] };
        seen.push(await chat(p, `mp-p${p}-load-${i}`, body));
      }),
    );
    await Promise.all([turns, load]);

    // The session: one history, every turn once and in order.
    const stored = (await (await fetch(`${procs[1]!.url}/v1/sessions/${session}`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
      turns: number;
      messages: { role: string; content: string }[];
    };
    expect(stored.turns).toBe(TURNS);
    expect(stored.messages).toHaveLength(2 * TURNS);
    stored.messages.forEach((m, i) => expect(m.role).toBe(i % 2 === 0 ? 'user' : 'assistant'));
    expect(stored.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(Array.from({ length: TURNS }, (_, t) => `turn ${t}`));

    // What Bedrock received: one call per turn, each with the whole history before it.
    const calls = bedrock.requests.filter((r) => r.status === 200).map((r) => r.body as { messages: { role: string; content: { text?: string }[] }[] });
    expect(calls).toHaveLength(TURNS);
    calls.forEach((call, t) => {
      expect(call.messages).toHaveLength(2 * t + 1);
      const userTexts = call.messages.filter((m) => m.role === 'user').map((m) => m.content.map((c) => c.text ?? '').join(''));
      expect(userTexts).toEqual(Array.from({ length: t + 1 }, (_, k) => `turn ${k}`));
    });

    // Stop every process (each flushes its ledger on SIGTERM), then read the one table.
    for (const p of procs) p.child.kill('SIGTERM');
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual(procs.map(() => 0));
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const { rows } = await client.query<{ request_id: string; prompt: string; completion: string; status: number }>(
      `SELECT request_id, input_tokens + cache_read_tokens + cache_write_tokens AS prompt, output_tokens AS completion, status FROM ${table}`,
    );
    await client.end();

    expect(rows).toHaveLength(seen.length);
    for (let p = 0; p < PROCESSES; p++)
      expect(rows.filter((r) => r.request_id.startsWith(`mp-p${p}-`)).length).toBe(seen.filter((s) => s.process === p).length);
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    for (const s of seen) {
      const row = byId.get(s.requestId);
      expect(row, s.requestId).toBeDefined();
      expect(row!.status).toBe(200);
      expect({ id: s.requestId, prompt: Number(row!.prompt), completion: Number(row!.completion) }).toEqual({ id: s.requestId, prompt: s.prompt, completion: s.completion });
    }
    const sum = (f: (s: Seen) => number) => seen.reduce((a, s) => a + f(s), 0);
    expect(rows.reduce((a, r) => a + Number(r.prompt) + Number(r.completion), 0)).toBe(sum((s) => s.prompt + s.completion));
  });
});
