// Ground truth for metering: a scripted mixed workload against the simulators, whose billed usage
// the simulators record. The ledger, the report and the Prometheus counters must all equal it:
// tokens exactly, dollars exactly (report, computed here independently from list prices) and to
// the last double digit (Prometheus).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../src/cli/report.js';
import { readLedger } from '../../src/metering/index.js';
import { KEY, SONNET, startStack, type Stack } from '../helpers/stack.js';

const HAIKU = 'anthropic.claude-haiku-4-5-20251001-v1:0';
// USD per 1M tokens (shared/reference/PROTOCOLS.md), as integer pico-dollars per token.
const PRICE: Record<string, { in: bigint; out: bigint; cacheRead: bigint; cacheWrite: bigint }> = {
  'gpt-4o': { in: 2_500_000n, out: 10_000_000n, cacheRead: 1_250_000n, cacheWrite: 2_500_000n },
  'gpt-4o-mini': { in: 165_000n, out: 660_000n, cacheRead: 75_000n, cacheWrite: 165_000n },
  [SONNET]: { in: 3_000_000n, out: 15_000_000n, cacheRead: 300_000n, cacheWrite: 3_750_000n },
  [HAIKU]: { in: 1_000_000n, out: 5_000_000n, cacheRead: 100_000n, cacheWrite: 1_250_000n },
};
const EQUIVALENT: Record<string, string> = { 'gpt-4o': SONNET, 'gpt-4o-mini': HAIKU };

interface Truth { backend: string; input: bigint; output: bigint; cacheRead: bigint; cacheWrite: bigint; actual: bigint; counterfactual: bigint }
const usd = (pico: bigint) => {
  const s = pico.toString().padStart(13, '0');
  return `${s.slice(0, -12)}.${s.slice(-12)}`.replace(/\.?0+$/, '');
};

let stack: Stack;
let ledgerDir: string;
const truth: Truth[] = [];

beforeAll(async () => {
  ledgerDir = mkdtempSync(join(tmpdir(), 'sr-truth-'));
  stack = await startStack({
    ledgerDir,
    extraYaml: `
routes:
  fast:
    kind: stateless
    backend: azure
    fallbacks: [ { backend: azure, model: gpt-4o-mini } ]
    resilience: { retries: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 }, breaker: { consecutiveFailures: 50 } }
  sessions: { kind: stateful, backend: bedrock }
rules:
  - { name: sessions, when: { header: x-session-id }, route: sessions }
default: fast
`,
  });
  // The stack's metering section lacks the mini equivalent: reconfigure through the meter's own API.
  stack.gateway.meter.reconfigure({
    config: { ...stack.gateway.runtime().config.metering, equivalents: EQUIVALENT },
    knownModels: ['gpt-4o', 'gpt-4o-mini', SONNET, HAIKU],
  });
  const client = new OpenAI({ apiKey: KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  const ask = (content: string) => [{ role: 'user' as const, content }];

  // Stateless: JSON, streams with and without the usage chunk.
  for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'gpt-4o', messages: ask(`question number ${i} ${'x'.repeat(i * 40)}`) });
  for (const includeUsage of [true, false, true]) {
    const s = await client.chat.completions.create({ model: 'gpt-4o', messages: ask('stream a story'), stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) });
    for await (const _ of s);
  }
  // One 429, retried on the same target after its retry-after-ms.
  stack.azure.faults.push({ status: 429, headers: { 'retry-after-ms': '20' }, body: { error: { code: '429', message: 'rate limited' } } });
  await client.chat.completions.create({ model: 'gpt-4o', messages: ask('retried') });
  // One fallback: the primary fails both attempts, gpt-4o-mini answers.
  stack.azure.faults.push({ status: 503, times: 2, body: { error: { code: 'ServiceUnavailable', message: 'busy' } } });
  const fell = await client.chat.completions.create({ model: 'gpt-4o', messages: ask('fell back') }).withResponse();
  expect(fell.response.headers.get('x-stateroute-fallback')).toBe('azure/gpt-4o-mini');
  // A 10-turn stateful session, alternating JSON and streamed turns.
  for (let turn = 1; turn <= 10; turn++) {
    const opts = { headers: { 'x-session-id': 'truth' } };
    if (turn % 2) await client.chat.completions.create({ model: 'gpt-4o', messages: ask(`turn ${turn} ${'y'.repeat(turn * 30)}`) }, opts);
    else for await (const _ of await client.chat.completions.create({ model: 'gpt-4o', messages: ask(`turn ${turn}`), stream: true }, opts));
  }

  // The simulators' own record of what they billed.
  for (const r of stack.azure.requests) {
    if (!r.billed || r.outcome !== 'finished' || !r.path.endsWith('/chat/completions')) continue;
    const model = r.path.includes('/mini-prod/') ? 'gpt-4o-mini' : 'gpt-4o';
    const [p, e] = [PRICE[model]!, PRICE[EQUIVALENT[model]!]!];
    const input = BigInt(r.billed.promptTokens);
    const output = BigInt(r.billed.completionTokens);
    truth.push({ backend: 'azure', input, output, cacheRead: 0n, cacheWrite: 0n, actual: input * p.in + output * p.out, counterfactual: input * e.in + output * e.out });
  }
  for (const r of stack.bedrock.requests) {
    if (!r.billed || r.status !== 200) continue;
    const b = r.billed;
    const [input, output, cacheRead, cacheWrite] = [b.inputTokens, b.outputTokens, b.cacheReadInputTokens, b.cacheWriteInputTokens].map(BigInt) as [bigint, bigint, bigint, bigint];
    const p = PRICE[SONNET]!;
    const e = PRICE['gpt-4o']!;
    truth.push({
      backend: 'bedrock', input, output, cacheRead, cacheWrite,
      actual: input * p.in + cacheRead * p.cacheRead + cacheWrite * p.cacheWrite + output * p.out,
      // A stateful turn priced as a stateless call re-sending the whole history uncached.
      counterfactual: (input + cacheRead + cacheWrite) * e.in + output * e.out,
    });
  }
  await stack.gateway.stop(5_000);
}, 60_000);
afterAll(() => stack?.close());

const sum = (rows: Truth[], f: (t: Truth) => bigint) => rows.reduce((a, t) => a + f(t), 0n);

describe('metering equals ground truth', () => {
  it('the workload is what it claims to be', () => {
    expect(truth.filter((t) => t.backend === 'azure')).toHaveLength(8);
    expect(truth.filter((t) => t.backend === 'bedrock')).toHaveLength(10);
    expect(sum(truth, (t) => t.cacheRead)).toBeGreaterThan(0n);
  });

  it('ledger: one record per request, tokens by type equal', async () => {
    const records = [];
    for await (const r of readLedger(ledgerDir)) records.push(r);
    expect(records).toHaveLength(18);
    for (const backend of ['azure', 'bedrock']) {
      const mine = records.filter((r) => r.backend === backend);
      const t = truth.filter((x) => x.backend === backend);
      expect(mine.reduce((a, r) => a + r.tokens.input, 0)).toBe(Number(sum(t, (x) => x.input)));
      expect(mine.reduce((a, r) => a + r.tokens.output, 0)).toBe(Number(sum(t, (x) => x.output)));
      expect(mine.reduce((a, r) => a + r.tokens.cacheRead, 0)).toBe(Number(sum(t, (x) => x.cacheRead)));
      expect(mine.reduce((a, r) => a + r.tokens.cacheWrite, 0)).toBe(Number(sum(t, (x) => x.cacheWrite)));
    }
    const fallback = records.find((r) => r.modelAnswered?.startsWith('gpt-4o-mini'));
    expect(fallback).toMatchObject({ backend: 'azure', modelRequested: 'gpt-4o', status: 200 });
  });

  it('report: totals per backend equal to the last pico-dollar', async () => {
    let out = '';
    const code = await reportCommand({ ledger: ledgerDir, since: '1h', by: 'backend', format: 'json', out: { write: (s: string) => ((out += s), true) } as never, err: { write: () => true } as never });
    expect(code).toBe(0);
    const report = JSON.parse(out) as { groups: { backend: string; requests: number; tokens: Record<string, number>; actualUsd: string; counterfactualUsd: string }[] };
    for (const backend of ['azure', 'bedrock']) {
      const g = report.groups.find((x) => x.backend === backend)!;
      const t = truth.filter((x) => x.backend === backend);
      expect(g.requests).toBe(t.length);
      expect(g.tokens).toEqual({ input: Number(sum(t, (x) => x.input)), output: Number(sum(t, (x) => x.output)), cacheRead: Number(sum(t, (x) => x.cacheRead)), cacheWrite: Number(sum(t, (x) => x.cacheWrite)) });
      expect(g.actualUsd).toBe(usd(sum(t, (x) => x.actual)));
      expect(g.counterfactualUsd).toBe(usd(sum(t, (x) => x.counterfactual)));
    }
  });

  it('Prometheus counters: tokens exactly, dollars to double precision', async () => {
    const text = await stack.gateway.meter.metrics.metrics();
    const series = (name: string, match: Record<string, string>) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`) && Object.entries(match).every(([k, v]) => l.includes(`${k}="${v}"`)))
        .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    for (const backend of ['azure', 'bedrock']) {
      const t = truth.filter((x) => x.backend === backend);
      expect(series('stateroute_tokens_total', { backend, type: 'input' })).toBe(Number(sum(t, (x) => x.input)));
      expect(series('stateroute_tokens_total', { backend, type: 'output' })).toBe(Number(sum(t, (x) => x.output)));
      expect(series('stateroute_tokens_total', { backend, type: 'cache_read' })).toBe(Number(sum(t, (x) => x.cacheRead)));
      expect(series('stateroute_cost_usd_total', { backend, kind: 'actual' })).toBeCloseTo(Number(usd(sum(t, (x) => x.actual))), 12);
      expect(series('stateroute_cost_usd_total', { backend, kind: 'counterfactual' })).toBeCloseTo(Number(usd(sum(t, (x) => x.counterfactual))), 12);
    }
  });
});
