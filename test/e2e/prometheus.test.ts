// Real Prometheus scrapes a gateway under a short mixed load; every PromQL expression of the
// Grafana dashboard must return data, `promtool check metrics` must be clean on the scrape, and
// `promtool check rules` on the alert rules.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinary, startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';
import { KEY, startStack, type Stack } from '../helpers/stack.js';

const hasPrometheus = requireBinary('prometheus') && requireBinary('promtool');
let stack: Stack;
let prom: PrometheusServer;

interface Panel { title?: string; targets?: { expr?: string }[]; panels?: Panel[] }
function dashboardExpressions(): { title: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync('grafana/dashboards/stateroute.json', 'utf8')) as { panels: Panel[] };
  const out: { title: string; expr: string }[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ title: p.title ?? '?', expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  // Grafana's variables, as a dashboard over the last few minutes would resolve them.
  return out.map(({ title, expr }) => ({
    title,
    expr: expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '5m').replaceAll('$__interval', '15s').replaceAll('$backend', '.*'),
  }));
}

async function load(stack: Stack) {
  const client = new OpenAI({ apiKey: KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  const ask = [{ role: 'user' as const, content: 'Hello' }];
  for (let i = 0; i < 3; i++) {
    await client.chat.completions.create({ model: 'gpt-4o', messages: ask });
    const s = await client.chat.completions.create({ model: 'gpt-4o', messages: ask, stream: true });
    for await (const _ of s);
    const t = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `turn ${i}` }], stream: true }, { headers: { 'x-session-id': 'prom' } });
    for await (const _ of t);
  }
  await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
  stack.azure.faults.push({ times: 3, status: 503, body: { error: { code: 'ServiceUnavailable', message: 'busy' } } });
  await client.chat.completions.create({ model: 'gpt-4o', messages: ask }).catch(() => {});
  await client.chat.completions.create({ model: 'gpt-4o', messages: [] }).catch(() => {});
  await client.delete('/sessions/prom');
  await stack.gateway.reload();
}

beforeAll(async () => {
  if (!hasPrometheus) return;
  stack = await startStack({ withConfigFile: true });
  prom = await startPrometheus(new URL(stack.url).host);
  await load(stack);
  await prom.waitForScrapes(3);
  await load(stack);
  await prom.waitForScrapes(6);
}, 60_000);
afterAll(async () => {
  await prom?.close();
  await stack?.close();
});

describe.skipIf(!hasPrometheus)('metrics in a real Prometheus', () => {
  it('every dashboard expression returns data', async () => {
    const empty: string[] = [];
    const exprs = dashboardExpressions();
    expect(exprs.length).toBeGreaterThan(20);
    for (const { title, expr } of exprs) {
      const data = await prom.query(expr);
      if (data.result.length === 0) empty.push(`${title}: ${expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('promtool check metrics is clean on a scrape', async () => {
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('promtool check rules accepts the alert rules', () => {
    const r = spawnSync('promtool', ['check', 'rules', 'grafana/alerts.yml'], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
