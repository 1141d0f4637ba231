// Static checks of the Grafana dashboard and the alert rules: importable shape, PromQL that parses
// (promtool), and every metric they reference is one the gateway emits. Whether each expression
// returns data from a real Prometheus is the CI test's job.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { meteringSchema } from '../../src/config/metering.js';
import { createMeter } from '../../src/metering/meter.js';
import { promtoolAvailable, spyLogger, tempDir } from './helpers.js';

const root = fileURLToPath(new URL('../../grafana/', import.meta.url));
const dashboard = JSON.parse(readFileSync(join(root, 'dashboards/stateroute.json'), 'utf8')) as {
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string; datasource: { uid: string } }[] }[];
};
const alerts = parse(readFileSync(join(root, 'alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };

const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const alertExprs = alerts.groups.flatMap((g) => g.rules.map((r) => ({ panel: r.alert, expr: r.expr })));

/** What a Grafana would substitute before sending the query. */
export const substitute = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$backend', '.*');

/** Metric names in a PromQL expression (label matchers and by/without clauses removed first). */
const metricNames = (expr: string) =>
  [...expr.replace(/\{[^}]*\}/g, '').replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '').matchAll(/\b((?:gen_ai|stateroute)_[a-z_]+)\b/g)].map((m) => m[1]!);

async function emittedMetrics(): Promise<Set<string>> {
  const meter = createMeter({ config: meteringSchema.parse({ ledger: { type: 'none' } }), logger: spyLogger(), knownModels: ['gpt-4o'] });
  meter.record({ requestId: 'x', startedAt: Date.now(), tenant: 't', route: 'r', rule: 'r', backend: 'azure', provider: 'azure.ai.openai', kind: 'stateless', operation: 'chat', modelRequested: 'gpt-4o', usage: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, reasoning: 0 }, status: 200, durationMs: 10, ttftMs: 5, upstreamMs: 9, stream: true });
  meter.metrics.sessionEnded(2);
  const names = new Set<string>();
  for (const line of (await meter.metrics.metrics()).split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (!m) continue;
    names.add(m[1]!);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1]! + s);
  }
  return names;
}

describe('Grafana dashboard and alerts', () => {
  it('is importable: a Prometheus datasource variable used by every panel and query', () => {
    const ds = dashboard.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const p of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
      for (const t of p.targets ?? []) expect(t.datasource.uid, p.title).toBe('${DS_PROMETHEUS}');
    }
    const ids = dashboard.panels.map((p) => (p as unknown as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has the panels the operators asked for', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join('\n');
    for (const want of ['cost per backend', 'actual vs counterfactual', 'tokens by type', 'cache-read share of prompt tokens, stateful', 'latency p50 / p95 / p99 by backend', 'time to first token p50 / p95 / p99 by backend', 'time to first token', 'errors by type', 'gateway overhead', 'active sessions', 'request rate by rule'])
      expect(titles).toContain(want);
  });

  it('references only metrics the gateway emits', async () => {
    const emitted = await emittedMetrics();
    const all = [...dashboardExprs, ...alertExprs];
    expect(all.length).toBeGreaterThan(30);
    for (const { panel, expr } of all) {
      const names = metricNames(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(emitted.has(name), `${panel} uses ${name}, which the gateway does not emit`).toBe(true);
    }
  });

  it('every expression parses (promtool check rules), and the alert file is valid', (ctx) => {
    if (!promtoolAvailable()) {
      if (process.env.CI) throw new Error('promtool is not installed (CI must install Debian package "prometheus")');
      console.warn('SKIPPED: PromQL syntax check — promtool is not installed (apt-get install prometheus)');
      ctx.skip();
    }
    const file = join(tempDir(), 'dashboard-rules.yml');
    const rules = dashboardExprs.map((e, i) => `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(substitute(e.expr))}`);
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
    for (const f of [file, join(root, 'alerts.yml')]) {
      const res = spawnSync('promtool', ['check', 'rules', f], { encoding: 'utf8' });
      expect(res.status, res.stdout + res.stderr).toBe(0);
    }
  });

  it('the example Prometheus config scrapes the gateway and loads the alerts', () => {
    const cfg = parse(readFileSync(join(root, 'prometheus.yml'), 'utf8')) as { rule_files: string[]; scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[] };
    expect(cfg.rule_files).toContain('alerts.yml');
    expect(cfg.scrape_configs[0]).toMatchObject({ metrics_path: '/metrics', static_configs: [{ targets: ['127.0.0.1:8080'] }] });
  });
});
