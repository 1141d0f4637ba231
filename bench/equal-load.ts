// The equal-load latency comparison, run in a process of its own (`run.ts` starts it after each
// scenario's saturated rounds): both systems at one fixed rate in short windows, alternating
// A B B A, each over its own kept pool of sockets. The latency clock runs in this process, so its
// own pauses count against whichever system is measured at the time: in the benchmark's process,
// after the saturated autocannon rounds, V8 ran 6–9 mark-compacts a second (~30–40 ms of them a
// second, in phases lasting seconds) and both systems' window p99s rose from ~4 to ~12–14 ms
// (2026-11-27, fifteenth machine; major GCs counted with a PerformanceObserver per window). A fresh
// process has no autocannon heap, but on Node's default heap it fell into the same phases; run.ts
// gives it a small young generation (EQUAL_LOAD_CLIENT_FLAGS says why). The client's own stalls are
// still measured per window and reported, so a reader can tell a system's tail from the client's.
//
// Usage (a child of run.ts): `equal-load.ts '<json of EqualLoadSpec>'`; prints one JSON line.
import { Agent } from 'node:http';
import { PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';
import { fixedRate, median, quantile, type LatencyNumbers } from './latency.js';

export interface EqualLoadTarget {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface EqualLoadSpec {
  rate: number;
  windows: number;
  windowS: number;
  /** The unmeasured run of each system before the windows. */
  settleS: number;
  connections: number;
  gateway: EqualLoadTarget;
  baseline: EqualLoadTarget;
}

/** One system at the equal load: medians over its windows, and the p99 of all their requests. */
export type EqualLoadNumbers = Omit<LatencyNumbers, 'sorted'> & { pooledP99: number; windowP99s: number[] };

/** This process's own stalls while a window ran: they delay requests of whichever system it measured. */
export interface ClientStalls {
  /** Mark-compact collections, and their total duration (ms). */
  majorGcs: number;
  majorGcMs: number;
  /** The longest event-loop delay (ms) seen in any of the system's windows. */
  maxLoopDelayMs: number;
}

export interface EqualLoadResult {
  rate: number;
  gateway: EqualLoadNumbers;
  baseline: EqualLoadNumbers;
  ratio: { p50: number; p99: number; pooledP99: number };
  client: { gateway: ClientStalls; baseline: ClientStalls };
}

/** Mark-compacts since the window began. The observer hears of a GC a little after it (entries are
 * delivered in a later turn), so one at the very end of a window may count in the next. */
const majorGcs: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs.push(entry.duration);
}).observe({ entryTypes: ['gc'] });

export async function equalLoad(spec: EqualLoadSpec): Promise<EqualLoadResult> {
  const pools = { gateway: new Agent({ keepAlive: true, maxSockets: spec.connections }), baseline: new Agent({ keepAlive: true, maxSockets: spec.connections }) };
  const windows: Record<'gateway' | 'baseline', LatencyNumbers[]> = { gateway: [], baseline: [] };
  const stalls: Record<'gateway' | 'baseline', ClientStalls> = { gateway: { majorGcs: 0, majorGcMs: 0, maxLoopDelayMs: 0 }, baseline: { majorGcs: 0, majorGcMs: 0, maxLoopDelayMs: 0 } };
  const run = (system: 'gateway' | 'baseline', durationS: number) => {
    const t = spec[system];
    return fixedRate({ url: t.url, headers: t.headers, body: t.body, rate: spec.rate, durationS, connections: spec.connections, agent: pools[system] });
  };
  const measured = async (system: 'gateway' | 'baseline') => {
    const loop = monitorEventLoopDelay({ resolution: 1 });
    majorGcs.length = 0;
    loop.enable();
    windows[system].push(await run(system, spec.windowS));
    loop.disable();
    const s = stalls[system];
    s.majorGcs += majorGcs.length;
    s.majorGcMs += majorGcs.reduce((a, b) => a + b, 0);
    s.maxLoopDelayMs = Math.max(s.maxLoopDelayMs, loop.max / 1e6);
  };
  try {
    // One unmeasured run of each first, at the same rate; it also opens each pool's sockets. Right
    // after the saturated runs the system measured first is slower for a second or two (measured:
    // the gateway at 100 % CPU and a p50 of 3–40 ms for ~1.5 s where it later needs ~60 % and 1.8
    // ms), so without it the first round measures the aftermath of the last load rather than the
    // offered one.
    await run('gateway', spec.settleS);
    await run('baseline', spec.settleS);
    for (let round = 0; round < spec.windows; round++) {
      if (round % 2 === 0) await measured('gateway').then(() => measured('baseline'));
      else await measured('baseline').then(() => measured('gateway'));
    }
  } finally {
    pools.gateway.destroy();
    pools.baseline.destroy();
  }
  const pick = (xs: LatencyNumbers[]): EqualLoadNumbers => ({
    rate: spec.rate,
    requests: xs.reduce((n, x) => n + x.requests, 0),
    failures: xs.reduce((n, x) => n + x.failures, 0),
    p50: median(xs.map((x) => x.p50)),
    p90: median(xs.map((x) => x.p90)),
    p99: median(xs.map((x) => x.p99)),
    pooledP99: quantile(xs.flatMap((x) => x.sorted).sort((a, c) => a - c), 0.99),
    windowP99s: xs.map((x) => x.p99),
  });
  const gateway = pick(windows.gateway);
  const baseline = pick(windows.baseline);
  const rounded = (s: ClientStalls): ClientStalls => ({ majorGcs: s.majorGcs, majorGcMs: Math.round(s.majorGcMs * 10) / 10, maxLoopDelayMs: Math.round(s.maxLoopDelayMs * 10) / 10 });
  return {
    rate: spec.rate,
    gateway,
    baseline,
    ratio: { p50: gateway.p50 / baseline.p50, p99: gateway.p99 / baseline.p99, pooledP99: gateway.pooledP99 / baseline.pooledP99 },
    client: { gateway: rounded(stalls.gateway), baseline: rounded(stalls.baseline) },
  };
}

if (process.argv[1]?.endsWith('equal-load.ts')) {
  const spec = JSON.parse(process.argv[2] ?? '') as EqualLoadSpec;
  process.stdout.write(`${JSON.stringify(await equalLoad(spec))}\n`);
}
