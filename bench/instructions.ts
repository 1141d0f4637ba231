// Instructions per request, counted by valgrind's callgrind: the gateway (dist/) and the bare proxy,
// non-streamed and streamed. Unlike CPU time it does not move with other load on the machine, so it
// tells a 5 % change apart on a busy 2-core box. `npx tsx bench/instructions.ts [--requests N] [--only gateway,proxy,floor] [--dist DIR]`
// (`--dist`: another build of the gateway, e.g. a copy of dist/ from before a change, for an A/B)
// (build first: `npm run build`). Each system runs under callgrind; after a warm-up its counters
// are zeroed, N requests are sent (4 at a time), and the dump's total is divided by N. Counted per
// thread: `main` is the event loop (JavaScript, scavenges); `all` adds V8's helper threads
// (optimising compiler, concurrent marking) and libuv's pool (file writes). Under valgrind the
// optimising compiler is slow to settle, so the warm-up is long and `main` is the steadier figure.
// `--functions N` also prints the gateway's N costliest functions per request on the event loop,
// JavaScript named (its node runs with --perf-basic-prof; bench/callgrind-functions.ts); with
// `--keep DIR` the dumps and V8's maps are kept there, to ask callgrind_annotate --tree=caller who
// calls what. `--kinds stream` counts only the streamed requests.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { callgrindArgs, lastTotals, requireValgrind } from './callgrind.js';
import { topFunctions } from './callgrind-functions.js';
import { ROOT, freePort, startChild } from './children.js';
import { API_VERSION, AZURE_KEY, BENCH_KEY, DEPLOYMENT, benchConfigYaml } from './config.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '1000' }, only: { type: 'string', default: 'gateway,proxy' }, warmup: { type: 'string', default: '2500' }, dist: { type: 'string', default: join(ROOT, 'dist') }, functions: { type: 'string', default: '0' }, kinds: { type: 'string', default: 'stateless,stream' }, keep: { type: 'string' } } });
const N = Number(values.requests);
const WARMUP = Number(values.warmup);
const FUNCTIONS = Number(values.functions);
const KINDS = values.kinds.split(',');
requireValgrind();

const work = mkdtempSync(join(tmpdir(), 'stateroute-instr-'));
const upstream = await startChild('upstream.ts');
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
const chatBody = (stream: boolean) =>
  JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say something about foxes.' }], ...(stream ? { stream: true } : {}) });

function send(url: string, headers: Record<string, string>, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function drive(count: number, url: string, headers: Record<string, string>, body: string): Promise<void> {
  let left = count;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (left-- > 0) await send(url, headers, body);
  }));
}

/** The main thread's file of the newest dump in dir (see lastTotals). */
function lastDump(dir: string): string {
  const dumps = readdirSync(dir).map((f) => /^cg\.out\.(\d+)-01$/.exec(f)).filter((m): m is RegExpExecArray => m !== null);
  return join(dir, dumps.sort((a, b) => Number(b[1]) - Number(a[1]))[0]![0]);
}

async function measure(name: string, start: (dir: string) => Promise<{ pid: number; url: string; headers: Record<string, string>; stop(): void; perfMap?: string }>) {
  const dir = mkdtempSync(join(work, `${name}-`));
  const sys = await start(dir);
  const result: Record<string, number> = {};
  try {
    for (const stream of [false, true]) {
      if (!KINDS.includes(stream ? 'stream' : 'stateless')) continue;
      await drive(WARMUP, sys.url, sys.headers, chatBody(stream));
      spawnSync('callgrind_control', ['-z', String(sys.pid)]);
      await drive(N, sys.url, sys.headers, chatBody(stream));
      spawnSync('callgrind_control', ['-d', String(sys.pid)]);
      const { main, all } = lastTotals(dir);
      const kind = stream ? 'stream' : 'stateless';
      result[kind] = main / N;
      result[`${kind}AllThreads`] = all / N;
      process.stderr.write(`${name} ${kind}: ${(main / N / 1e6).toFixed(3)} M instructions/request on the main thread, ${(all / N / 1e6).toFixed(3)} M in all threads\n`);
      if (FUNCTIONS > 0 && sys.perfMap) {
        const dump = lastDump(dir);
        process.stderr.write(`${name} ${kind}: costliest functions, instructions per request (self):\n${topFunctions(dump, sys.perfMap, N, FUNCTIONS).join('\n')}\n`);
        if (values.keep) {
          // For callgrind_annotate --tree=caller (who calls a builtin), JIT addresses looked up in the map.
          mkdirSync(values.keep, { recursive: true });
          copyFileSync(dump, join(values.keep, `${name}-${kind}.callgrind`));
          copyFileSync(sys.perfMap, join(values.keep, `${name}-${kind}.perf.map`));
        }
      }
    }
  } finally {
    sys.stop();
  }
  return result;
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready`);
}

const results: Record<string, Record<string, number>> = {};
try {
  if (values.only.includes('gateway')) {
    results.gateway = await measure('gateway', async (dir) => {
      const port = await freePort();
      const configFile = join(work, 'gateway.yaml');
      writeFileSync(configFile, benchConfigYaml({ port, azureUrl: upstream.url, bedrockUrl: 'http://127.0.0.1:9', ledgerDir: join(work, 'ledger'), store: { type: 'memory' } }));
      const perfFlags = FUNCTIONS > 0 ? ['--perf-basic-prof'] : [];
      const proc = spawn('valgrind', [...callgrindArgs(dir), process.execPath, ...perfFlags, join(values.dist, 'cli', 'main.js'), 'serve', '--config', configFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
      const url = `http://127.0.0.1:${port}`;
      await waitReady(url);
      // valgrind runs node in its own process: the map is named after valgrind's pid.
      const perfMap = `/tmp/perf-${proc.pid}.map`;
      const stop = () => {
        proc.kill('SIGKILL');
        if (FUNCTIONS > 0) rmSync(perfMap, { force: true });
      };
      return { pid: proc.pid!, url: `${url}/v1/chat/completions`, headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }, stop, perfMap: FUNCTIONS > 0 ? perfMap : undefined };
    });
  }
  if (values.only.includes('proxy')) {
    results.proxy = await measure('proxy', async (dir) => {
      const proc = spawn('valgrind', [...callgrindArgs(dir), process.execPath, '--import', 'tsx', join(ROOT, 'bench', 'proxy.ts'), upstream.url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      const url = await new Promise<string>((resolve) => createInterface({ input: proc.stdout! }).once('line', (l) => resolve((JSON.parse(l) as { url: string }).url)));
      const path = `/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`;
      return { pid: proc.pid!, url: `${url}${path}`, headers: { 'api-key': AZURE_KEY, 'content-type': 'application/json' }, stop: () => proc.kill('SIGKILL') };
    });
  }
  if (values.only.includes('floor')) {
    // The framework floor (bench/floor.ts): the gateway's stack without its own work, for an
    // instruction count of what auth, routing, resilience, SSE translation and metering add.
    results.floor = await measure('floor', async (dir) => {
      const proc = spawn('valgrind', [...callgrindArgs(dir), process.execPath, '--import', 'tsx', join(ROOT, 'bench', 'floor.ts'), upstream.url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      const url = await new Promise<string>((resolve) => createInterface({ input: proc.stdout! }).once('line', (l) => resolve((JSON.parse(l) as { url: string }).url)));
      return { pid: proc.pid!, url: `${url}/v1/chat/completions`, headers: { 'content-type': 'application/json' }, stop: () => proc.kill('SIGKILL') };
    });
  }
  if (results.gateway && results.proxy)
    for (const k of ['stateless', 'stream']) process.stderr.write(`${k}: gateway/proxy main-thread instructions ${(results.gateway[k]! / results.proxy[k]!).toFixed(2)}×\n`);
  process.stdout.write(`${JSON.stringify(results)}\n`);
} finally {
  agent.destroy();
  await upstream.stop();
  rmSync(work, { recursive: true, force: true });
}
