// `npm run bench`: the gateway against a bare Node pass-through proxy, on loopback, in one run.
//
// Children: an instant OpenAI-shaped upstream (Azure wire paths), the Bedrock simulator with no
// delays, two bare proxies (one per upstream) and `stateroute serve` (memory store; later a second
// one on Redis). autocannon drives them from this process, systems alternating A B A B, and the
// medians are reported. Options:
//   --rounds N        A/B rounds per scenario (default 3)
//   --latency-rounds N  windows per system of the equal-load latency comparison (default 20)
//   --latency-window S  seconds per such window (default 1)
//   --duration S      seconds per autocannon run (default 5)
//   --connections N   concurrent connections (default 32)
//   --only a,b        scenarios: stateless,stream,stream-paced,cluster,stateful-memory,stateful-redis,cpu,memory, and
//                     floor (not in the default run): bench/floor.ts, the gateway's framework with
//                     none of its work (Hono + undici, body parsed and serialised once), in the
//                     gateway's column against the same proxy, stateless and streamed
//   --cpu-prof        run the gateway with --cpu-prof (profiles land in bench/results/profiles)
//   --soak MIN        after the rest, steady stateless load for MIN minutes, sampling the gateway's RSS
//   --ledger none     run the gateway without its JSONL ledger (to see what the ledger costs)
//   --node-flags none run the gateway on Node's default heap settings instead of its tuned V8 flags
//                     (src/cli/node-flags.ts); the proxies always run on Node's defaults
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ROOT, freePort, runChildJson, startChild, startGatewayChild, type Child } from './children.js';
import { API_VERSION, AZURE_KEY, BENCH_KEY, DEPLOYMENT, benchConfigYaml } from './config.js';
import { historyCpu } from './history-cpu.js';
import type { EqualLoadResult, EqualLoadSpec } from './equal-load.js';
import { load, median, type RunNumbers } from './load.js';
import { signedConverse } from './sign.js';
import { soak } from './soak.js';
import { GATEWAY_NODE_FLAGS } from '../src/cli/node-flags.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'latency-rounds': { type: 'string', default: '20' },
    'latency-window': { type: 'string', default: '1' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    soak: { type: 'string' },
    ledger: { type: 'string', default: 'jsonl' },
    'node-flags': { type: 'string', default: 'gateway' },
  },
});
/** The V8 flags the gateway runs with in its container (src/cli/node-flags.ts); `--node-flags none`
 * runs it on Node's defaults. The proxies always run on Node's defaults: the gateway's flags made the
 * bare proxy slower (10206 → 8666 req/s stateless, 9679 → 9535 streamed, alternating, 2026-11-26),
 * so giving them to it would flatter the ratio. */
const NODE_FLAGS: string[] = values['node-flags'] === 'none' ? [] : [...GATEWAY_NODE_FLAGS];
/** A/B rounds per scenario: three, so each system's figure is a real median. The same gateway
 * process, under the same load, used 292–500 µs of CPU per streamed request from one 4 s window to
 * the next in one sitting (2026-11-26; the machine's speed drifts with its neighbours), and with two
 * rounds the "median" was the mean of two such windows, one of them often the slow first. */
const ROUNDS = Number(values.rounds);
/** Windows per system of the equal-load latency comparison, and their length. A p99 over one window
 * rests on its slowest 1 % and swings with the shared machine's stalls, which come in phases lasting
 * seconds (the bare proxy's own p99 moved 7.7–26 ms between runs minutes apart, 2026-11-27), so the
 * comparison takes many short windows, alternating, and the median of each system's window p99s.
 * Checked with the proxy against a second proxy process (A/A, where 1.0 is the truth): three 5 s
 * windows each with new connections gave 0.91–1.44 over four runs, eight 2 s windows 0.77–1.37,
 * fifteen 1 s windows with kept connections 0.88–1.05, and this shape (20 windows, A B B A) five
 * times 0.77–1.04. The p99 of all the windows' requests together is printed too: it counts a stall
 * that hits few windows, which the median leaves out. */
const LATENCY_ROUNDS = Number(values['latency-rounds']);
const LATENCY_WINDOW_S = Number(values['latency-window']);
const DURATION = Number(values.duration);
/** The equal-load client's V8 heap: a young generation of at most 8 MB a semi-space (Node's default
 * is 16). V8 starts marking the old generation when the room left under its limit comes down to
 * about the young generation's capacity (heap.cc, IncrementalMarkingLimitReached); the client keeps
 * ~10 MB live, so with Node's default it fell into phases of a mark-compact after almost every scavenge,
 * 6–9 a second, and every system's window p99 rose from ~4 to ~10–14 ms. Runs of the client in a
 * process of its own, 20 windows per system (2026-11-27, fifteenth machine): with the default, such
 * phases in 5 of 7; with 8 MB, in 1 of 15. What is left is reported per system (equal-load.ts). */
const EQUAL_LOAD_CLIENT_FLAGS = ['--max-semi-space-size=8'];
/** The unmeasured run before the equal-load latency runs. */
const SETTLE_S = 2;
const CONNECTIONS = Number(values.connections);
const only = values.only ? new Set(values.only.split(',')) : undefined;
const want = (s: string) => !only || only.has(s);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Processes per system in the cluster scenarios: one per core. */
const WORKERS = availableParallelism();
/** Turns per benchmark session: each connection plays 10-turn conversations back to back, a fresh session each. */
const TURNS = 10;

const RESULTS = join(ROOT, 'bench', 'results');
mkdirSync(RESULTS, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'stateroute-bench-'));
const children: Child[] = [];
const track = <T extends Child>(c: T): T => (children.push(c), c);
const cleanup = async () => {
  await Promise.allSettled(children.map((c) => c.stop()));
  rmSync(work, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

const log = (s: string) => process.stderr.write(`${s}\n`);

interface Scenario {
  name: string;
  gateway: () => Parameters<typeof load>[0];
  baseline: () => Promise<Parameters<typeof load>[0]>;
  note: string;
  /** Also compare latency at one fixed offered load (the scenarios with latency targets). */
  latencyAtEqualLoad?: boolean;
}

interface ScenarioResult {
  name: string;
  note: string;
  gateway: RunNumbers & { runs: RunNumbers[] };
  baseline: RunNumbers & { runs: RunNumbers[] };
  ratio: { rps: number; p50: number; p99: number; cpuPerRequest?: number | undefined };
  /** Latency of both at one fixed offered load (half the gateway's saturated rate), open-loop. */
  equalLoad?: EqualLoadResult | undefined;
}

const summarise = (runs: RunNumbers[]): RunNumbers & { runs: RunNumbers[] } => ({
  rps: median(runs.map((r) => r.rps)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  requests: runs.reduce((s, r) => s + r.requests, 0),
  non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
  errors: runs.reduce((s, r) => s + r.errors, 0),
  cpuUsPerRequest: runs.every((r) => r.cpuUsPerRequest !== undefined) ? median(runs.map((r) => r.cpuUsPerRequest!)) : undefined,
  runs,
});

async function compare(s: Scenario): Promise<ScenarioResult> {
  const g: RunNumbers[] = [];
  const b: RunNumbers[] = [];
  // Warm-up: JIT, connection pools, session code paths, heap sizes (and autocannon in this process).
  // As long as a measured run: after 2 s both systems' first round still ran 30–50 % below their
  // second (gateway 3344 vs 5241 req/s, proxy 6845 vs 10248, one run on 2026-11-26).
  await load({ ...s.gateway(), durationS: DURATION });
  await load({ ...(await s.baseline()), durationS: DURATION });
  for (let round = 0; round < ROUNDS; round++) {
    g.push(await load(s.gateway()));
    b.push(await load(await s.baseline()));
    log(`  ${s.name} round ${round + 1}: gateway ${g.at(-1)!.rps.toFixed(0)} req/s p99 ${g.at(-1)!.p99} ms | proxy ${b.at(-1)!.rps.toFixed(0)} req/s p99 ${b.at(-1)!.p99} ms`);
  }
  const gateway = summarise(g);
  const baseline = summarise(b);
  const equalLoad = s.latencyAtEqualLoad && LATENCY_ROUNDS > 0 ? await latencyAtEqualLoad(s, Math.max(10, Math.round(gateway.rps / 2))) : undefined;
  return {
    equalLoad,
    name: s.name,
    note: s.note,
    gateway,
    baseline,
    ratio: { rps: gateway.rps / baseline.rps, p50: gateway.p50 / Math.max(baseline.p50, 1), p99: gateway.p99 / Math.max(baseline.p99, 1), cpuPerRequest: gateway.cpuUsPerRequest && baseline.cpuUsPerRequest ? gateway.cpuUsPerRequest / baseline.cpuUsPerRequest : undefined },
  };
}

/** Both systems at the same fixed rate in LATENCY_ROUNDS short windows each, alternating A B B A,
 * each over its own kept pool of sockets, from a process of its own (equal-load.ts: this one's heap,
 * after the autocannon rounds, made the client stall); the p99 compared is the median of the
 * windows' p99s, and the p99 of all the windows' requests together is reported next to it. */
async function latencyAtEqualLoad(s: Scenario, rate: number): Promise<EqualLoadResult> {
  const target = (o: Parameters<typeof load>[0]) => ({ url: o.url, headers: o.headers ?? {}, body: o.body ?? '' });
  const spec: EqualLoadSpec = { rate, windows: LATENCY_ROUNDS, windowS: LATENCY_WINDOW_S, settleS: SETTLE_S, connections: CONNECTIONS, gateway: target(s.gateway()), baseline: target(await s.baseline()) };
  const result = await runChildJson<EqualLoadResult>('equal-load.ts', [JSON.stringify(spec)], EQUAL_LOAD_CLIENT_FLAGS);
  const w = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' ');
  const c = (x: EqualLoadResult['client']['gateway']) => `${x.majorGcs} major GCs (${x.majorGcMs} ms), longest loop delay ${x.maxLoopDelayMs} ms`;
  log(`  ${s.name} at ${rate} req/s, ${LATENCY_ROUNDS} windows of ${LATENCY_WINDOW_S} s each: window p99s gateway ${w(result.gateway.windowP99s)} | proxy ${w(result.baseline.windowP99s)} ms`);
  log(`    the client's own stalls: in the gateway's windows ${c(result.client.gateway)}; in the proxy's ${c(result.client.baseline)}`);
  return result;
}

const chatBody = (stream: boolean, paced = false) =>
  JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: paced ? 'Say something about foxes, paced.' : 'Say something about foxes.' }], ...(stream ? { stream: true } : {}) });
const gwHeaders = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' };

let sessionSeq = 0;
/** One connection's pipeline: TURNS requests on one fresh session, sending only the new user message. */
const sessionTurns = (prefix: string) =>
  Array.from({ length: TURNS }, (_, turn) => ({
    method: 'POST',
    path: '/v1/chat/completions',
    setupRequest(req: Record<string, unknown>, context: { session?: string }) {
      if (turn === 0 || !context.session) context.session = `${prefix}-${process.pid}-${sessionSeq++}`;
      return {
        ...req,
        headers: { ...gwHeaders, 'x-session-id': context.session },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `turn ${turn}: tell me one more thing about the quick brown fox` }] }),
      };
    },
  }));

async function main() {
  const started = Date.now();
  const upstream = track(await startChild('upstream.ts'));
  const bedrock = track(await startChild('bedrock.ts'));
  const proxy = track(await startChild('proxy.ts', [upstream.url]));
  const bedrockProxy = track(await startChild('proxy.ts', [bedrock.url]));

  const startGateway = async (store: Parameters<typeof benchConfigYaml>[0]['store'], tag: string, extraArgs: string[] = []) => {
    const port = await freePort();
    const configFile = join(work, `gateway-${tag}.yaml`);
    writeFileSync(configFile, benchConfigYaml({ port, azureUrl: upstream.url, bedrockUrl: bedrock.url, ledgerDir: join(work, `ledger-${tag}`), store, ledger: values.ledger === 'none' ? 'none' : 'jsonl' }));
    const profDir = join(RESULTS, 'profiles');
    const nodeArgs = [...NODE_FLAGS, ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])];
    // The gateway's own log (warn and up) goes to a file next to the results, not into the report.
    return track(await startGatewayChild({ configFile, port, nodeArgs, extraArgs, logFile: join(RESULTS, `gateway-${tag}.log`) }));
  };
  const gateway = await startGateway({ type: 'memory' }, 'memory');
  log(`upstream ${upstream.url}  bedrock ${bedrock.url}  proxy ${proxy.url}  gateway ${gateway.url}`);

  const common = { connections: CONNECTIONS, durationS: DURATION };
  /** What a client of Azure sends the bare proxies. */
  const azureHeaders = { 'api-key': AZURE_KEY, 'content-type': 'application/json' };
  const azurePath = `/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`;
  // The stateful baseline: the client keeps the history itself and sends a signed Converse call of
  // the benchmark sessions' mean length (turn t sends 2t+1 messages; t = 0…9 → 10 on average).
  const statefulBaseline = async () => {
    const signed = await signedConverse({ url: bedrock.url, messages: TURNS + 1 });
    return { ...common, pid: bedrockProxy.proc.pid, url: `${bedrockProxy.url}${signed.path}`, headers: signed.headers, body: signed.body };
  };

  const scenarios: Scenario[] = [];
  if (want('stateless'))
    scenarios.push({
      name: 'stateless',
      note: 'POST /v1/chat/completions → Azure (instant upstream), JSON answer',
      latencyAtEqualLoad: true,
      gateway: () => ({ ...common, pid: gateway.proc.pid, url: `${gateway.url}/v1/chat/completions`, headers: gwHeaders, body: chatBody(false) }),
      baseline: async () => ({ ...common, pid: proxy.proc.pid, url: `${proxy.url}${azurePath}`, headers: azureHeaders, body: chatBody(false) }),
    });
  if (want('stream'))
    scenarios.push({
      name: 'stream',
      note: 'the same with stream:true: 22 SSE chunks + usage + [DONE]',
      latencyAtEqualLoad: true,
      gateway: () => ({ ...common, pid: gateway.proc.pid, url: `${gateway.url}/v1/chat/completions`, headers: gwHeaders, body: chatBody(true) }),
      baseline: async () => ({ ...common, pid: proxy.proc.pid, url: `${proxy.url}${azurePath}`, headers: azureHeaders, body: chatBody(true) }),
    });
  // Informative, not a target: the benchmark's stream arrives in one read, and a stream whose end
  // has come by the time the gateway answers goes out whole (sse-response.ts, sseWhole). A model's
  // stream arrives over many reads; this row prices that path (chunked, one write per read).
  if (want('stream-paced'))
    scenarios.push({
      name: 'stream-paced',
      note: 'the stream in six pieces, each written in its own upstream event-loop turn (several reads, chunked out); informative',
      gateway: () => ({ ...common, pid: gateway.proc.pid, url: `${gateway.url}/v1/chat/completions`, headers: gwHeaders, body: chatBody(true, true) }),
      baseline: async () => ({ ...common, pid: proxy.proc.pid, url: `${proxy.url}${azurePath}`, headers: azureHeaders, body: chatBody(true, true) }),
    });
  if (want('cluster')) {
    // Like for like on every core: `serve --workers N` against N bare proxies behind one port
    // (bench/proxy-cluster.ts). A cluster needs a shared session store, so this gateway uses Redis.
    // CPU per request counts the primary and all its workers.
    const clusterGateway = await startGateway({ type: 'redis', url: REDIS_URL, keyPrefix: `stateroute-bench-cluster-${process.pid}:` }, 'cluster', ['--workers', String(WORKERS)]);
    const clusterProxy = track(await startChild('proxy-cluster.ts', [upstream.url, String(WORKERS)]));
    for (const stream of [false, true])
      scenarios.push({
        name: `${stream ? 'stream' : 'stateless'} ×${WORKERS}`,
        note: `${stream ? 'stream' : 'stateless'} with \`serve --workers ${WORKERS}\` against ${WORKERS} bare proxy processes (node:cluster, sharing one port); not a target, the targets are the single-process rows`,
        gateway: () => ({ ...common, pid: clusterGateway.proc.pid, tree: true, url: `${clusterGateway.url}/v1/chat/completions`, headers: gwHeaders, body: chatBody(stream) }),
        baseline: async () => ({ ...common, pid: clusterProxy.proc.pid, tree: true, url: `${clusterProxy.url}${azurePath}`, headers: azureHeaders, body: chatBody(stream) }),
      });
  }
  if (only?.has('floor')) {
    const floor = track(await startChild('floor.ts', [upstream.url]));
    for (const stream of [false, true])
      scenarios.push({
        name: stream ? 'floor:stream' : 'floor:stateless',
        note: 'not the gateway: bench/floor.ts (Hono + node-server + undici dispatch, the body parsed and serialised once, the upstream bytes passed back) against the same proxy',
        gateway: () => ({ ...common, pid: floor.proc.pid, url: `${floor.url}/v1/chat/completions`, headers: { 'content-type': 'application/json' }, body: chatBody(stream) }),
        baseline: async () => ({ ...common, pid: proxy.proc.pid, url: `${proxy.url}${azurePath}`, headers: azureHeaders, body: chatBody(stream) }),
      });
  }
  if (want('stateful-memory'))
    scenarios.push({
      name: 'stateful-memory',
      note: `x-session-id → Bedrock simulator, memory store; ${TURNS}-turn sessions, client sends only the new message. Baseline: client-signed Converse with ${TURNS + 1} messages through the bare proxy`,
      gateway: () => ({ ...common, pid: gateway.proc.pid, url: gateway.url, requests: sessionTurns('mem') }),
      baseline: statefulBaseline,
    });

  const results: ScenarioResult[] = [];
  for (const s of scenarios) {
    log(`scenario ${s.name}`);
    results.push(await compare(s));
  }

  let redisPrefix: string | undefined;
  if (want('stateful-redis')) {
    redisPrefix = `stateroute-bench-${process.pid}-${Date.now()}:`;
    const redisGateway = await startGateway({ type: 'redis', url: REDIS_URL, keyPrefix: redisPrefix }, 'redis');
    log('scenario stateful-redis');
    results.push(
      await compare({
        name: 'stateful-redis',
        note: 'the same with the Redis session store',
        gateway: () => ({ ...common, pid: redisGateway.proc.pid, url: redisGateway.url, requests: sessionTurns('redis') }),
        baseline: statefulBaseline,
      }),
    );
    await redisGateway.stop();
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }

  const cpu = want('cpu') ? await historyCpu({ url: gateway.url, log }) : undefined;

  let memory: Record<string, number> | undefined;
  if (want('memory')) {
    log('memory per idle session');
    memory = await runChildJson<Record<string, number>>('session-memory.ts', [bedrock.url, '5000'], ['--expose-gc']);
  }

  const soakResult = values.soak ? await soak({ url: gateway.url, minutes: Number(values.soak), pid: gateway.proc.pid!, body: chatBody(true), headers: gwHeaders, log }) : undefined;

  await cleanup();
  const report = {
    date: new Date().toISOString(),
    machine: { loadAverage: (await import('node:os')).loadavg(), node: process.version, cpus: (await import('node:os')).cpus().length, model: (await import('node:os')).cpus()[0]?.model },
    settings: { rounds: ROUNDS, latencyRounds: LATENCY_ROUNDS, latencyWindowS: LATENCY_WINDOW_S, durationS: DURATION, connections: CONNECTIONS, ledger: values.ledger, logging: 'warn', nodeFlags: NODE_FLAGS },
    scenarios: results,
    historyCpu: cpu,
    idleSession: memory,
    soak: soakResult,
    elapsedS: (Date.now() - started) / 1000,
  };
  const file = join(RESULTS, `bench-${report.date.replaceAll(':', '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  print(report);
  log(`\nwritten ${file} (${report.elapsedS.toFixed(0)} s)`);
}

function print(report: { scenarios: ScenarioResult[]; historyCpu?: Awaited<ReturnType<typeof historyCpu>> | undefined; idleSession?: Record<string, number> | undefined; soak?: unknown }) {
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const out: string[] = [];
  out.push('');
  if (report.scenarios.length > 0) out.push(`scenario          gateway req/s  p50  p99 |  proxy req/s  p50  p99 | ratio req/s  p99  CPU/req (medians; ${ROUNDS} rounds A/B, ${CONNECTIONS} connections, ${DURATION} s each)`);
  for (const r of report.scenarios) {
    const g = r.gateway;
    const b = r.baseline;
    const fails = g.non2xx + g.errors > 0 ? `  gateway failures: ${g.non2xx} non-2xx, ${g.errors} errors` : '';
    out.push(
      `${r.name.padEnd(17)} ${pad(g.rps.toFixed(0), 13)} ${pad(g.p50, 4)} ${pad(g.p99, 4)} | ${pad(b.rps.toFixed(0), 12)} ${pad(b.p50, 4)} ${pad(b.p99, 4)} | ${pad(r.ratio.rps.toFixed(2), 11)} ${pad(r.ratio.p99.toFixed(2), 4)} ${pad(r.ratio.cpuPerRequest?.toFixed(2) ?? '-', 6)}  (CPU µs/request: gateway ${g.cpuUsPerRequest?.toFixed(0) ?? '-'}, proxy ${b.cpuUsPerRequest?.toFixed(0) ?? '-'})${fails}`,
    );
  }
  const targets = report.scenarios.filter((r) => r.name === 'stateless' || r.name === 'stream');
  for (const r of report.scenarios) {
    const e = r.equalLoad;
    if (e)
      out.push(
        `${r.name.padEnd(17)} at ${e.rate} req/s for both (open-loop, ${CONNECTIONS} kept sockets, medians of ${LATENCY_ROUNDS} ${LATENCY_WINDOW_S} s windows): gateway p50 ${e.gateway.p50.toFixed(2)} p99 ${e.gateway.p99.toFixed(2)} ms | proxy p50 ${e.baseline.p50.toFixed(2)} p99 ${e.baseline.p99.toFixed(2)} ms | ratio p50 ${e.ratio.p50.toFixed(2)} p99 ${e.ratio.p99.toFixed(2)}; all windows' requests together: p99 ${e.gateway.pooledP99.toFixed(2)} vs ${e.baseline.pooledP99.toFixed(2)} ms → ${e.ratio.pooledP99.toFixed(2)}×${e.gateway.failures ? `  gateway failures: ${e.gateway.failures}` : ''}`,
      );
  }
  // Latency target: at the same offered load. At saturation (the table above) a closed-loop client's
  // latency is connections / throughput, i.e. the throughput ratio again.
  for (const r of targets) {
    const p99 = r.equalLoad?.ratio.p99;
    out.push(
      `  target ${r.name}: throughput ≥ 0.60× → ${r.ratio.rps.toFixed(2)}× ${r.ratio.rps >= 0.6 ? 'met' : 'MISSED'}; p99 at equal load ≤ 1.5× → ${p99 === undefined ? '-' : `${p99.toFixed(2)}× ${p99 <= 1.5 ? 'met' : 'MISSED'}`} (at saturation ${r.ratio.p99.toFixed(2)}×)`,
    );
  }
  const cpu = report.historyCpu;
  if (cpu)
    out.push(
      `gateway CPU per stateful turn, both at ~${cpu.rate} turns/s (median): ${cpu.at10.toFixed(3)} ms at 10 messages, ${cpu.at500.toFixed(3)} ms at 500 → ${cpu.ratio.toFixed(2)}× (target ≤ 1.3×: ${cpu.ratio <= 1.3 ? 'met' : 'MISSED'})`,
      `  each as fast as it goes (10 at ${cpu.closedLoop.turnsPerS.at10.toFixed(0)} turns/s, 500 at ${cpu.closedLoop.turnsPerS.at500.toFixed(0)}): ${cpu.closedLoop.at10.toFixed(3)} ms, ${cpu.closedLoop.at500.toFixed(3)} ms → ${cpu.closedLoop.ratio.toFixed(2)}× (two loads compared; bench/history-cpu.ts)`,
    );
  const m = report.idleSession;
  if (m)
    out.push(
      `idle in-memory session: ${m.heapPerSession} B of heap, of which ${m.contentPerSession} B content → ${m.overheadPerSession} B overhead (target ≤ 4096: ${(m.overheadPerSession ?? Infinity) <= 4096 ? 'met' : 'MISSED'})`,
    );
  if (report.soak) {
    const { samples: _samples, ...soakSummary } = report.soak as Record<string, unknown>;
    out.push(`soak: ${JSON.stringify(soakSummary)}`);
  }
  out.push(`machine load average at the end: ${(report as { machine?: { loadAverage?: number[] } }).machine?.loadAverage?.map((x) => x.toFixed(1)).join(' ')} (other work on the machine skews latency; CPU/request does not depend on it)`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch(async (err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  await cleanup();
  process.exit(1);
});
