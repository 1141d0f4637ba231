// Latency at a fixed offered load, for comparing two systems at the same request rate.
//
// Why not autocannon's numbers: at saturation a closed-loop client measures queueing (latency ≈
// connections / throughput), so the latency ratio only restates the throughput ratio; and its
// histogram keeps whole milliseconds, too coarse for a loopback round trip of 1–3 ms. Here requests
// are sent open-loop on a fixed schedule over a keep-alive pool, and each latency runs from the
// request's *scheduled* start to the last byte of its response (so a stall delays the requests
// behind it and is counted, rather than omitted), recorded in microseconds.
import { Agent, request } from 'node:http';

export interface FixedRateOptions {
  url: string;
  method?: 'POST';
  headers: Record<string, string>;
  body: string;
  /** Requests per second, spread evenly. */
  rate: number;
  durationS: number;
  /** Keep-alive sockets; a request that finds none free waits (and its wait counts). */
  connections: number;
  /** A pool kept across runs (its sockets stay open between them); else one made for this run and
   * closed after it. */
  agent?: Agent;
}

export interface LatencyNumbers {
  rate: number;
  requests: number;
  failures: number;
  /** Milliseconds, from the scheduled start to the response's last byte. */
  p50: number;
  p90: number;
  p99: number;
  /** Every successful request's latency (ms), ascending. */
  sorted: number[];
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

export async function fixedRate(o: FixedRateOptions): Promise<LatencyNumbers> {
  const url = new URL(o.url);
  const agent = o.agent ?? new Agent({ keepAlive: true, maxSockets: o.connections });
  const payload = Buffer.from(o.body);
  const headers = { ...o.headers, 'content-length': String(payload.byteLength) };
  const latencies: number[] = [];
  let failures = 0;
  const intervalMs = 1000 / o.rate;
  const total = Math.round(o.rate * o.durationS);
  const start = performance.now();
  let sent = 0;
  let settled = 0;

  const one = (scheduledAt: number) =>
    new Promise<void>((resolve) => {
      const req = request(
        { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: o.method ?? 'POST', headers, agent },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - scheduledAt);
            else failures++;
            resolve();
          });
          res.on('error', () => (failures++, resolve()));
        },
      );
      req.on('error', () => (failures++, resolve()));
      req.end(payload);
    }).finally(() => settled++);

  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) void one(start + sent++ * intervalMs).then(() => settled === total && done());
      if (sent < total) setTimeout(tick, Math.max(0, Math.min(1, start + sent * intervalMs - performance.now())));
    };
    tick();
  });
  if (!o.agent) agent.destroy();
  latencies.sort((a, b) => a - b);
  const ms = (x: number) => Math.round(x * 100) / 100;
  return { rate: o.rate, requests: total, failures, p50: ms(quantile(latencies, 0.5)), p90: ms(quantile(latencies, 0.9)), p99: ms(quantile(latencies, 0.99)), sorted: latencies };
}
