// `stateroute serve --workers 2` as real processes: two workers share the port, /metrics from any
// worker is the cluster-wide aggregate, a memory session store is refused, SIGTERM drains and exits 0.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterProblems, workerConfig } from '../../src/cli/workers.js';
import { parseConfig } from '../../src/config/load.js';
import { startAzureSimulator, type AzureSimulator } from '../../src/simulators/azure/index.js';
import { REDIS_URL, requireRedis } from '../helpers/redis.js';

const KEY = 'sk-workers-test-0123456789';
const hasRedis = await requireRedis();
let azure: AzureSimulator;
let dir: string;
beforeAll(async () => {
  azure = await startAzureSimulator({ apiKey: 'k', deployments: { d: 'gpt-4o-2024-08-06' } });
  dir = mkdtempSync(join(tmpdir(), 'sr-workers-'));
});
afterAll(() => azure?.close());

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const yaml = (o: { port: number; store: string; ledgerDir: string }) => `listen: { host: 127.0.0.1, port: ${o.port} }
server: { shutdownGraceMs: 5000 }
logging: { level: warn }
auth: { keys: [ { name: t, tenant: t, key: ${KEY} } ] }
backends:
  azure: { type: azure-openai, endpoint: "${azure.url}", apiKey: k, apiVersion: "2024-10-21", deployments: { gpt-4o: d } }
sessions: { store: ${o.store} }
metering: { ledger: { type: jsonl, dir: "${o.ledgerDir}", flushIntervalMs: 50 } }
`;

function serve(configFile: string, workers: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', configFile, '--workers', String(workers)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', () => {
      const m = /listening on (http:\/\/\S+) with \d+ workers/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
  return { child, ready, exited, output: () => out };
}

const chat = (url: string, content: string, stream = false) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', stream, messages: [{ role: 'user', content }] }),
  });

const sample = (text: string, name: string): number =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

describe('clusterProblems / workerConfig', () => {
  const base = `auth: { mode: none }\nbackends:\n  azure: { type: azure-openai, endpoint: "http://127.0.0.1:9", apiKey: k, apiVersion: "2024-10-21" }\n`;
  it('refuses a memory session store with more than one worker, and only then', () => {
    const config = parseConfig(base, 'c.yaml', {});
    expect(clusterProblems(config, 1)).toEqual([]);
    expect(clusterProblems(config, 2).join()).toMatch(/sessions\.store is "memory".*redis/);
    const redis = parseConfig(`${base}sessions: { store: { type: redis, url: "redis://127.0.0.1:6379" } }\n`, 'c.yaml', {});
    expect(clusterProblems(redis, 4)).toEqual([]);
  });

  it('refuses per-worker limit counters with more than one worker', () => {
    const redisSessions = `${base}sessions: { store: { type: redis, url: "redis://127.0.0.1:6379" } }\n`;
    const memory = parseConfig(`${redisSessions}limits: { default: { requestsPerMinute: 60 } }\n`, 'c.yaml', {});
    expect(clusterProblems(memory, 2).join()).toMatch(/limits\.store is "memory".*2× too high/);
    expect(clusterProblems(parseConfig(`${redisSessions}limits: { default: { maxTokens: 100 } }\n`, 'c.yaml', {}), 2)).toEqual([]);
    const shared = parseConfig(`${redisSessions}limits: { store: { type: redis, url: "redis://127.0.0.1:6379" }, default: { requestsPerMinute: 60 } }\n`, 'c.yaml', {});
    expect(clusterProblems(shared, 2)).toEqual([]);
  });

  it('gives each worker its own ledger directory (JSONL files, PostgreSQL spill files)', () => {
    const jsonl = parseConfig(`${base}metering: { ledger: { type: jsonl, dir: /var/ledger } }\n`, 'c.yaml', {});
    expect(workerConfig(jsonl, 2).metering.ledger).toMatchObject({ type: 'jsonl', dir: '/var/ledger/worker-2' });
    expect(jsonl.metering.ledger).toMatchObject({ dir: '/var/ledger' });
    const pg = parseConfig(`${base}metering: { ledger: { type: postgres, url: "postgres://x/y", spillDir: /s } }\n`, 'c.yaml', {});
    expect(workerConfig(pg, 1).metering.ledger).toMatchObject({ type: 'postgres', spillDir: '/s/worker-1' });
  });
});

describe('stateroute serve --workers', () => {
  it('refuses to start with a memory session store, saying why', async () => {
    const file = join(dir, 'memory.yaml');
    writeFileSync(file, yaml({ port: await freePort(), store: '{ type: memory }', ledgerDir: join(dir, 'l0') }));
    const s = serve(file, 2);
    s.ready.catch(() => {});
    expect(await s.exited).toBe(1);
    expect(s.output()).toMatch(/cannot run --workers 2.*\n.*sessions\.store is "memory".*\{ type: redis/);
  });

  it.skipIf(!hasRedis)('two workers serve one port, /metrics aggregates both, SIGTERM drains a stream and exits 0', { timeout: 60_000 }, async () => {
    const ledgerDir = join(dir, 'ledger');
    const file = join(dir, 'redis.yaml');
    writeFileSync(file, yaml({ port: await freePort(), store: `{ type: redis, url: "${REDIS_URL}", keyPrefix: "sr-workers-${randomUUID()}:" }`, ledgerDir }));
    const s = serve(file, 2);
    const url = await s.ready;

    // Fresh connections each time, so both workers take requests.
    const N = 40;
    const statuses = await Promise.all(Array.from({ length: N }, (_, i) => chat(url, `hello ${i}`).then(async (r) => (await r.arrayBuffer(), r.status))));
    expect(statuses.every((st) => st === 200)).toBe(true);

    // Whichever worker answers, /metrics counts every request of the cluster.
    for (let i = 0; i < 4; i++) {
      const text = await (await fetch(`${url}/metrics`, { headers: { connection: 'close' } })).text();
      expect(sample(text, 'stateroute_requests_total')).toBe(N);
      expect(text).toMatch(/^nodejs_version_info\{/m);
    }

    // Both workers served requests: their ledgers are separate directories.
    await new Promise((r) => setTimeout(r, 300));
    const workers = readdirSync(ledgerDir).sort();
    expect(workers).toEqual(['worker-1', 'worker-2']);

    // An in-flight stream survives SIGTERM to the primary; then everything exits 0.
    azure.faults.push({ delayBetweenChunksMs: 100 });
    const res = await chat(url, 'a slow story', true);
    const reader = res.body!.getReader();
    await reader.read();
    s.child.kill('SIGTERM');
    let text = '';
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toMatch(/data: \[DONE\]\n\n$/);
    expect(await s.exited).toBe(0);
    expect(s.output()).toMatch(/SIGTERM: draining 2 workers/);
    expect(existsSync(join(ledgerDir, 'worker-1'))).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
