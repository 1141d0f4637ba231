// A real Prometheus server (Debian's package) for tests: fails under CI when it is not installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function requireBinary(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
  if (!found && process.env.CI) throw new Error(`${name} is required in CI (apt-get install -y prometheus) and is not installed`);
  if (!found) console.warn(`skipping: ${name} is not installed (apt-get install -y prometheus)`);
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface PrometheusServer {
  url: string;
  query(expr: string): Promise<{ resultType: string; result: unknown[] }>;
  waitForScrapes(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startPrometheus(target: string, scrapeIntervalS = 1): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sr-prom-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: ${scrapeIntervalS}s, evaluation_interval: ${scrapeIntervalS}s }\nscrape_configs:\n  - job_name: stateroute\n    static_configs: [ { targets: ["${target}"] } ]\n`,
  );
  const child: ChildProcess = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const query = async (expr: string) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: unknown[] } };
    if (body.status !== 'success') throw new Error(`PromQL failed: ${body.error} in ${expr}`);
    return body.data;
  };
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {}
    if (i > 100) throw new Error('prometheus did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    query,
    async waitForScrapes(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await query('count_over_time(up{job="stateroute"}[5m])');
        const count = Number((r.result[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0);
        if (count >= n) return;
        if (Date.now() > deadline) throw new Error(`only ${count} scrapes after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async close() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
