// The dashboard and alert expressions against a real Prometheus scraping the metrics of a meter
// under synthetic load: every expression must return data. (The gateway-wide version of this, with
// real traffic through the server, belongs to the CI suite.) Needs the `prometheus` binary (Debian
// package "prometheus"): under CI its absence fails the test; elsewhere it is skipped visibly.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { meteringSchema } from '../../src/config/metering.js';
import { createMeter, type Meter } from '../../src/metering/meter.js';
import { spyLogger, tempDir } from './helpers.js';

const available = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
if (!available && process.env.CI) throw new Error('the prometheus binary is not installed (CI must install Debian package "prometheus")');
if (!available) console.warn('SKIPPED: real-Prometheus dashboard check — prometheus is not installed (apt-get install prometheus)');

const root = fileURLToPath(new URL('../../grafana/', import.meta.url));
const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

function load(meter: Meter, i: number) {
  const stateful = i % 2 === 0;
  meter.record({
    requestId: `r${i}`,
    startedAt: Date.now(),
    tenant: 't',
    route: stateful ? 'sessions' : 'chat',
    rule: stateful ? 'has-session' : 'default',
    backend: stateful ? 'bedrock' : 'azure',
    provider: stateful ? 'aws.bedrock' : 'azure.ai.openai',
    kind: stateful ? 'stateful' : 'stateless',
    operation: 'chat',
    modelRequested: 'gpt-4o',
    modelAnswered: stateful ? `us.${SONNET}` : 'gpt-4o-2024-08-06',
    usage: { input: 100, output: 50, cacheRead: stateful ? 1000 : 0, cacheWrite: stateful ? 100 : 0, reasoning: 0 },
    status: i % 7 === 0 ? 502 : 200,
    errorType: i % 7 === 0 ? 'server_error' : undefined,
    durationMs: 500 + (i % 10) * 50,
    ttftMs: 100 + (i % 5) * 20,
    upstreamMs: 490 + (i % 10) * 50,
    stream: true,
  });
  if (i % 5 === 0) {
    meter.metrics.retry({ backend: 'azure' });
    meter.metrics.fallback({ route: 'chat', from: 'azure', to: 'azure-eu' });
    meter.metrics.sessionEnded(1 + (i % 13));
  }
}

describe.skipIf(!available)('dashboard against a real Prometheus', () => {
  let server: Server | undefined;
  let prometheus: ChildProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  afterAll(async () => {
    clearInterval(timer);
    prometheus?.kill('SIGTERM');
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  it('every dashboard and alert expression returns data', { timeout: 90_000 }, async () => {
    const meter = createMeter({ config: meteringSchema.parse({ equivalents: { 'gpt-4o': SONNET }, ledger: { type: 'none' } }), logger: spyLogger(), knownModels: ['gpt-4o'] });
    meter.metrics.setActiveSessionsSource(() => 4);
    meter.metrics.configReload('success');
    let i = 0;
    timer = setInterval(() => load(meter, ++i), 20);
    server = createServer((_req, res) => {
      void meter.metrics.metrics().then((text) => {
        res.setHeader('content-type', meter.metrics.contentType);
        res.end(text);
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;

    const dir = tempDir('stateroute-prometheus-');
    const example = parse(readFileSync(join(root, 'prometheus.yml'), 'utf8')) as { scrape_configs: { static_configs: { targets: string[] }[]; scrape_interval?: string }[]; global: Record<string, string> };
    example.global = { scrape_interval: '1s', evaluation_interval: '1s' };
    example.scrape_configs[0]!.static_configs[0]!.targets = [target];
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(example)); // JSON is YAML
    writeFileSync(join(dir, 'alerts.yml'), readFileSync(join(root, 'alerts.yml')));
    const port = await freePort();
    let log = '';
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    prometheus.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const api = async (path: string) => (await (await fetch(`http://127.0.0.1:${port}/api/v1/${path}`)).json()) as { status: string; data: { result?: unknown[]; groups?: { rules: { name: string; health: string; lastError?: string }[] }[] } };

    // Wait until enough scrapes exist for rate() over a 10s window.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await api(`query?query=${encodeURIComponent('count_over_time(stateroute_requests_total[1m])')}`).catch(() => undefined);
      const n = Number((r?.data.result?.[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0);
      if (n >= 12) break;
      if (Date.now() > deadline) throw new Error(`Prometheus never scraped enough samples; its log:\n${log.slice(-2000)}`);
      await sleep(500);
    }

    const dashboard = JSON.parse(readFileSync(join(root, 'dashboards/stateroute.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr.replaceAll('$__rate_interval', '10s').replaceAll('$__range', '1m').replaceAll('$backend', '.*') })));
    const empty: string[] = [];
    for (const { title, expr } of exprs) {
      const r = await api(`query?query=${encodeURIComponent(expr)}`);
      if (r.status !== 'success' || !r.data.result?.length) empty.push(`${title}: ${expr}`);
    }
    expect(empty, 'expressions that returned no data').toEqual([]);

    // Alert rules loaded and evaluated without error.
    await sleep(1500);
    const rules = (await api('rules')).data.groups!.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const rule of rules) expect(rule.health, `${rule.name}: ${rule.lastError ?? ''}`).toBe('ok');
  });
});
