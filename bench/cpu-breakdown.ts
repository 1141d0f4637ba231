// Where a request's CPU time goes, in real time: the gateway and the bare proxy, each under the
// benchmark's saturating load in turn, sampled by `perf record -e cpu-clock -g` (the kernel's part
// included, which callgrind does not count), JavaScript named from V8's --perf-basic-prof map.
// Prints µs of samples per request by kind of code (kernel, JavaScript, V8's builtins and runtime,
// Node and libuv, other threads) for both, and the gateway's costliest entry points (the first
// JavaScript frame from the event loop, with everything it calls). perf adds ~30 % to both.
// `npx tsx bench/cpu-breakdown.ts [--kind stream|stateless] [--seconds 6] [--warmup 12] [--top 15]`
// (after `npm run build`; needs `perf`, Debian's linux-perf; ~1 minute). The warm-up is long
// because V8 keeps optimising the gateway for ~10 s of load (README, Performance).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startChild, startGatewayChild, type Child } from './children.js';
import { API_VERSION, AZURE_KEY, BENCH_KEY, DEPLOYMENT, benchConfigYaml } from './config.js';
import { load, type LoadOptions } from './load.js';
import { GATEWAY_NODE_FLAGS } from '../src/cli/node-flags.js';

const { values } = parseArgs({ options: { kind: { type: 'string', default: 'stream' }, seconds: { type: 'string', default: '6' }, warmup: { type: 'string', default: '12' }, top: { type: 'string', default: '15' } } });
const SECONDS = Number(values.seconds);
const HZ = 2999;
if (spawnSync('perf', ['--version']).status !== 0) throw new Error('perf is missing: apt-get install -y linux-perf');

/** One sampled stack: the thread, and its frames from the leaf out as [symbol, dso]. */
interface Sample {
  tid: number;
  frames: [string, string][];
}

function samplesOf(file: string): Sample[] {
  const out = spawnSync('perf', ['script', '-i', file, '-F', 'tid,ip,sym,dso'], { maxBuffer: 1 << 30, encoding: 'utf8' }).stdout;
  const samples: Sample[] = [];
  let current: Sample | undefined;
  for (const line of out.split('\n')) {
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (!line.startsWith('\t')) {
      current = { tid: Number(line.trim()), frames: [] };
      samples.push(current);
      continue;
    }
    // "\t    addr symbol (dso)"
    const m = /^\s*[0-9a-f]+ (.*) \((.*)\)$/.exec(line);
    if (m && current) current.frames.push([m[1]!, m[2]!]);
  }
  return samples;
}

function kindOf(sample: Sample, pid: number): string {
  if (sample.tid !== pid) return 'other threads (GC helpers, optimising compiler)';
  const [sym, dso] = sample.frames[0] ?? ['', ''];
  if (dso.includes('kernel')) return 'kernel';
  if (sym.startsWith('JS:') || dso.startsWith('/tmp/perf-')) return 'JavaScript';
  if (sym.startsWith('Builtins_')) return "V8's builtins";
  if (sym.includes('v8::') || sym.startsWith('Runtime_')) return "V8's runtime";
  if (sym.includes('node::') || sym.startsWith('uv_') || sym.startsWith('uv__') || sym.startsWith('llhttp')) return 'Node and libuv';
  if (dso.includes('libc') || dso.includes('libstdc++')) return 'libc';
  return 'other';
}

const DISPATCH = /^JS:[*^~]?(processTicksAndRejections|processImmediate|listOnTimeout|processTimers|emit) /;

/** The first JavaScript frame from the root that is not the event loop's own dispatch. */
function entryOf(sample: Sample): string {
  for (let i = sample.frames.length - 1; i >= 0; i--) {
    const sym = sample.frames[i]![0];
    if (sym.startsWith('JS:') && !DISPATCH.test(sym)) return sym.replace(/^JS:[*^~]?/, '').replace('file://', '');
  }
  return '(below JavaScript: reads, parsers, promise machinery)';
}

async function profile(name: string, sys: LoadOptions & { pid: number }, dir: string): Promise<{ rate: number; samples: Sample[] }> {
  await load({ ...sys, durationS: Number(values.warmup) });
  const file = join(dir, `${name}.data`);
  const rec = spawn('perf', ['record', '-e', 'cpu-clock', '-F', String(HZ), '-g', '-o', file, '-p', String(sys.pid), '--', 'sleep', String(SECONDS)], { stdio: 'ignore' });
  const result = await load({ ...sys, durationS: SECONDS });
  await new Promise((resolve) => rec.once('exit', resolve));
  return { rate: result.rps, samples: samplesOf(file) };
}

function report(name: string, pid: number, run: { rate: number; samples: Sample[] }, top: number): void {
  const perRequest = (n: number) => (n / HZ / (run.rate * SECONDS)) * 1e6;
  const kinds = new Map<string, number>();
  for (const s of run.samples) {
    const kind = kindOf(s, pid);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  console.log(`\n${name}: ${run.rate.toFixed(0)} req/s while sampled, ${perRequest(run.samples.length).toFixed(1)} µs of samples a request`);
  for (const [kind, n] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(`  ${perRequest(n).toFixed(1).padStart(7)} µs  ${kind}`);
  if (top === 0) return;
  const entries = new Map<string, number>();
  for (const s of run.samples) {
    if (s.tid !== pid) continue;
    const entry = entryOf(s);
    entries.set(entry, (entries.get(entry) ?? 0) + 1);
  }
  console.log(`  by entry point (the event loop's thread):`);
  for (const [entry, n] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${perRequest(n).toFixed(1).padStart(7)} µs  ${entry.slice(0, 110)}`);
}

const work = mkdtempSync(join(tmpdir(), 'stateroute-cpu-'));
const children: Child[] = [];
try {
  const upstream = await startChild('upstream.ts');
  children.push(upstream);
  const proxy = await startChild('proxy.ts', [upstream.url], ['--perf-basic-prof']);
  children.push(proxy);
  const port = await freePort();
  const configFile = join(work, 'gateway.yaml');
  writeFileSync(configFile, benchConfigYaml({ port, azureUrl: upstream.url, bedrockUrl: 'http://127.0.0.1:9', ledgerDir: join(work, 'ledger'), store: { type: 'memory' } }));
  const gateway = await startGatewayChild({ configFile, port, nodeArgs: [...GATEWAY_NODE_FLAGS, '--perf-basic-prof'], logFile: join(work, 'gateway.log') });
  children.push(gateway);
  const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say something about foxes.' }], ...(values.kind === 'stream' ? { stream: true } : {}) });
  const common = { connections: 32, durationS: SECONDS, body };
  const gw = { ...common, pid: gateway.proc.pid!, url: `${gateway.url}/v1/chat/completions`, headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' } };
  const px = { ...common, pid: proxy.proc.pid!, url: `${proxy.url}/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`, headers: { 'api-key': AZURE_KEY, 'content-type': 'application/json' } };
  console.log(`${values.kind}: ${values.warmup} s of warm-up, then ${SECONDS} s sampled at ${HZ} Hz, each system in turn`);
  report('gateway', gw.pid, await profile('gateway', gw, work), Number(values.top));
  report('bare proxy', px.pid, await profile('proxy', px, work), 0);
} finally {
  await Promise.all(children.map((c) => c.stop()));
}
