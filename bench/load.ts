// autocannon runs, in this process, and the numbers the report keeps from each.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface RunNumbers {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** CPU time of the system under test (its process only, not the upstream), µs per request. */
  cpuUsPerRequest?: number | undefined;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  method?: 'POST' | 'GET';
  headers?: Record<string, string>;
  body?: string;
  /** autocannon request pipeline (per connection, context reset after the last). */
  requests?: unknown[];
  /** The process under test, for its CPU time (Linux /proc). */
  pid?: number | undefined;
  /** Count the CPU time of the process's children too (a cluster's workers). */
  tree?: boolean | undefined;
}

/** utime + stime of a process in µs, from /proc (clock ticks of 10 ms). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** The same for a process and its live children (a node:cluster primary and its workers). A
 * child's own counters are read, not the parent's cutime, which counts only children that exited. */
export function treeCpuMicros(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  let total = cpuMicros(pid);
  for (const child of children ? children.split(' ') : []) total += cpuMicros(Number(child));
  return total;
}

export async function load(o: LoadOptions): Promise<RunNumbers> {
  const cpuOf = o.tree ? treeCpuMicros : cpuMicros;
  const cpuBefore = o.pid ? cpuOf(o.pid) : 0;
  const result = (await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.durationS,
    method: o.method ?? 'POST',
    headers: o.headers,
    body: o.body,
    requests: o.requests,
  } as never)) as unknown as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  const cpu = o.pid ? cpuOf(o.pid) - cpuBefore : undefined;
  return {
    cpuUsPerRequest: cpu === undefined || result.requests.total === 0 ? undefined : cpu / result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

// The median lives with the latency code, which the equal-load client loads without autocannon.
export { median } from './latency.js';
