// Prometheus metrics, in a Registry of their own. Names follow the OpenTelemetry GenAI semantic
// conventions as Prometheus exports them (dots → underscores, unit suffix `_seconds`, `{token}`
// dropped), plus the gateway's own `stateroute_*` series.
//
// gen_ai_client_token_usage{gen_ai_token_type="input"} counts every prompt token (uncached + cache
// read + cache write), as OTel's input tokens do; the cache breakdown is in
// stateroute_tokens_total{type="input|cache_read|cache_write|output"}, whose `input` excludes cache
// so that summing over `type` gives the total once.
//
// Labels are bounded: models outside the known list become "other", other free-form values are
// capped per label (later new values become "other"); never session ids, users or keys.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Usage } from '../backends/types.js';
import type { CostResult } from './cost.js';
import { DeferredCounter, type CounterCell } from './deferred-counter.js';
import { DeferredHistogram, type HistogramCell } from './deferred-histogram.js';
import type { MeterRecordInput } from './meter.js';
import { picoToUsdNumber, type Pico } from './money.js';
import { PathMap } from './path-map.js';
import { modelCandidates } from './prices.js';

export const OTHER = 'other';

/** OTel's recommended token buckets (powers of 4). */
export const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
/** OTel's recommended duration buckets, extended to ~5 minutes for long generations. */
export const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92, 163.84, 327.68];
export const TTFC_BUCKETS = [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** Time the gateway itself adds: sub-millisecond to a second. */
export const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
export const TURN_BUCKETS = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233];

const OPERATIONS = new Set(['chat', 'text_completion', 'embeddings', 'generate_content', 'create_agent', 'invoke_agent', 'execute_tool', 'responses']);
const LABEL_VALUE = /^[A-Za-z0-9_.:\-/ ]{1,100}$/;

/** A label whose values are capped: the first `max` well-formed values pass, the rest are "other". */
class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  value(v: string | undefined): string {
    if (v === undefined || v === '') return '';
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max || !LABEL_VALUE.test(v)) return OTHER;
    this.seen.add(v);
    return v;
  }
}

/** Models: the configured names (and their spellings, see prices.ts) or "other". */
class ModelLabel {
  private known = new Map<string, string>();
  private readonly cache = new Map<string, string>();
  constructor(models: string[]) {
    this.set(models);
  }
  set(models: string[]) {
    this.known = new Map(models.map((m) => [m.toLowerCase(), m]));
    this.cache.clear();
  }
  value(model: string | undefined): string {
    if (!model) return '';
    const hit = this.cache.get(model);
    if (hit !== undefined) return hit;
    let label = OTHER;
    for (const c of modelCandidates(model)) {
      const k = this.known.get(c);
      if (k) {
        label = k;
        break;
      }
    }
    if (this.cache.size < 10_000) this.cache.set(model, label);
    return label;
  }
}

/** What the metrics need of a request: the meter's input (one definition of those fields). */
export type RequestObservation = Pick<
  MeterRecordInput,
  'route' | 'rule' | 'backend' | 'provider' | 'kind' | 'operation' | 'modelRequested' | 'modelAnswered' | 'status' | 'errorType' | 'errorSource' | 'durationMs' | 'ttftMs' | 'upstreamMs'
>;

type Labels = Record<string, string>;
type RequestLabels = Record<'route' | 'rule' | 'backend' | 'status', string>;
type TokenLabels = Record<'backend' | 'model' | 'type', string>;
interface SeriesLabels {
  request: RequestLabels;
  gen: Labels;
  duration: Labels;
  info: Labels;
  backend: Labels;
  inputTokens: Labels;
  outputTokens: Labels;
  tokens: Record<TokenType, TokenLabels>;
  model: Labels;
  actualCost: { key: string; labels: CostLabels };
  counterfactualCost: { key: string; labels: CostLabels };
}
type CostLabels = { backend: string; model: string; kind: string };
/** Exact cost of one series, in pico-dollars. */
interface CostTotal {
  labels: CostLabels;
  pico: Pico;
}
type TokenType = 'input' | 'output' | 'cache_read' | 'cache_write';

/** One combination of request label values: its label objects and, from their first update on, the
 * counter series it adds to. Series are fetched once per combination, not once per request. */
interface RequestSeries {
  labels: SeriesLabels;
  requests?: CounterCell<keyof RequestLabels>;
  tokens?: Record<TokenType, CounterCell<keyof TokenLabels>>;
  actualCost?: CostTotal;
  counterfactualCost?: CostTotal;
  /** Histogram series, each fetched at its first observation (so one never observed is not exported). */
  opDuration?: HistogramCell<string>;
  ttfc?: HistogramCell<string>;
  requestDuration?: HistogramCell<string>;
  timeToFirstToken?: HistogramCell<string>;
  overhead?: HistogramCell<string>;
  inputTokens?: HistogramCell<string>;
  outputTokens?: HistogramCell<string>;
}

export interface Metrics {
  readonly registry: Registry;
  /** Once per request, at its end (meter.record calls this): the request, its valid usage (if
   * any) and its cost (undefined without usage). */
  observeRequest(o: RequestObservation, usage: Usage | undefined, cost: Pick<CostResult, 'actual' | 'counterfactual'> | undefined): void;
  /** A failed upstream attempt that was retried or fell back (the final outcome is counted by observeRequest). */
  attemptFailed(labels: { backend: string; errorType: string }): void;
  retry(labels: { backend: string }): void;
  fallback(labels: { route: string; from: string; to: string }): void;
  configReload(result: 'success' | 'failure'): void;
  /** The session store's count, read at each scrape. */
  setActiveSessionsSource(source: () => number | Promise<number>): void;
  /** A session ended (deleted or expired) after this many turns. */
  sessionEnded(turns: number): void;
  setLedgerQueueDepthSource(source: () => number): void;
  ledgerWriteFailed(records: number): void;
  ledgerSpilled(records: number): void;
  setKnownModels(models: string[]): void;
  /** Exposition text and its content type, for GET /metrics. */
  metrics(): Promise<string>;
  /** Replaces what metrics() returns: a cluster worker answers with the primary's cluster-wide
   * aggregate (src/cli/workers.ts). The registry itself keeps this process's own series. */
  setExposition(source: (() => Promise<string>) | undefined): void;
  readonly contentType: string;
}

export function createMetrics(options: { knownModels: string[]; collectDefault: boolean }): Metrics {
  const registry = new Registry();
  if (options.collectDefault) {
    collectDefaultMetrics({ register: registry });
    // prom-client names these gauges `_total`, which promtool rejects; the per-type gauges
    // (nodejs_active_handles{type}, …) carry the same numbers: sum() them.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  }
  const registers = [registry];
  const models = new ModelLabel(options.knownModels);
  const route = new BoundedLabel(200);
  const rule = new BoundedLabel(500);
  const backend = new BoundedLabel(100);
  const provider = new BoundedLabel(20);
  const errorType = new BoundedLabel(100);
  const operation = (op: string) => (OPERATIONS.has(op) ? op : OTHER);
  const status = (s: number) => (Number.isInteger(s) && s >= 100 && s <= 599 ? String(s) : OTHER);

  const tokenUsage = new DeferredHistogram({
    name: 'gen_ai_client_token_usage',
    help: 'Tokens used per request (OTel gen_ai.client.token.usage); input includes cached prompt tokens.',
    labelNames: ['gen_ai_token_type', 'gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_response_model'],
    buckets: TOKEN_BUCKETS,
    registers,
  });
  const opDuration = new DeferredHistogram({
    name: 'gen_ai_client_operation_duration_seconds',
    help: 'End-to-end duration of a GenAI operation as the client saw it (OTel gen_ai.client.operation.duration).',
    labelNames: ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_response_model', 'error_type'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const ttfc = new DeferredHistogram({
    name: 'gen_ai_client_operation_time_to_first_chunk_seconds',
    help: 'Time from request start to the first streamed chunk (OTel gen_ai.client.operation.time_to_first_chunk).',
    labelNames: ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_response_model'],
    buckets: TTFC_BUCKETS,
    registers,
  });
  // Updated by every request: added up between scrapes (deferred-counter.ts, deferred-histogram.ts).
  const requests = new DeferredCounter({
    name: 'stateroute_requests_total',
    help: 'Requests by route, rule, backend and final HTTP status.',
    labelNames: ['route', 'rule', 'backend', 'status'],
    registers,
  });
  const tokens = new DeferredCounter({
    name: 'stateroute_tokens_total',
    help: 'Tokens by backend, answering model and type (input excludes cache reads and writes).',
    labelNames: ['backend', 'model', 'type'],
    registers,
  });

  // Cost is accumulated exactly in pico-dollars and converted once per scrape, so the exported
  // total equals the ledger's to the last digit a double can hold.
  const costTotals = new Map<string, CostTotal>();
  new Counter({
    name: 'stateroute_cost_usd_total',
    help: 'Cost in USD by backend and answering model: kind="actual" as billed, kind="counterfactual" on the other backend\'s equivalent model.',
    labelNames: ['backend', 'model', 'kind'],
    registers,
    collect() {
      this.reset();
      for (const { labels, pico } of costTotals.values()) this.inc(labels, picoToUsdNumber(pico));
    },
  });
  /** The total of one cost series, created (and from then on exported) at its first cost. */
  const costTotal = ({ key, labels }: { key: string; labels: CostLabels }): CostTotal => {
    let total = costTotals.get(key);
    if (!total) {
      total = { labels, pico: 0n };
      costTotals.set(key, total);
    }
    return total;
  };

  // Per-backend latency: the OTel histograms above carry provider and model, not the configured
  // backend name, and the dashboard compares backends.
  const requestDuration = new DeferredHistogram({
    name: 'stateroute_request_duration_seconds',
    help: 'End-to-end request duration by backend (as the client saw it).',
    labelNames: ['backend'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const timeToFirstToken = new DeferredHistogram({
    name: 'stateroute_time_to_first_token_seconds',
    help: 'Time from request start to the first streamed chunk, by backend.',
    labelNames: ['backend'],
    buckets: TTFC_BUCKETS,
    registers,
  });
  const backendInfo = new Gauge({
    name: 'stateroute_backend_info',
    help: 'Always 1: the kind (stateless|stateful) and provider of each backend that served a request, for joins (… and on (backend) stateroute_backend_info{kind="stateful"}).',
    labelNames: ['backend', 'kind', 'provider'],
    registers,
  });
  const overhead = new DeferredHistogram({
    name: 'stateroute_gateway_overhead_seconds',
    help: 'Time spent in the gateway rather than waiting on the upstream (duration minus upstream time).',
    labelNames: ['backend'],
    buckets: OVERHEAD_BUCKETS,
    registers,
  });
  const retries = new Counter({ name: 'stateroute_retries_total', help: 'Upstream attempts retried.', labelNames: ['backend'], registers });
  const fallbacks = new Counter({ name: 'stateroute_fallbacks_total', help: 'Requests that fell back from one backend to another.', labelNames: ['route', 'from', 'to'], registers });
  const upstreamErrors = new Counter({ name: 'stateroute_upstream_errors_total', help: 'Failed upstream attempts by backend and error type.', labelNames: ['backend', 'error_type'], registers });
  let activeSource: (() => number | Promise<number>) | undefined;
  new Gauge({
    name: 'stateroute_active_sessions',
    help: 'Sessions currently held by the session store.',
    registers,
    // Every worker of a cluster reads the same shared store: aggregate with max, not sum.
    aggregator: 'max',
    async collect() {
      if (!activeSource) return;
      try {
        this.set(await activeSource());
      } catch {
        // The session store could not answer this scrape: keep the last value rather than fail /metrics.
      }
    },
  });
  const sessionTurns = new Histogram({ name: 'stateroute_session_turns', help: 'Turns per session, observed when a session ends.', buckets: TURN_BUCKETS, registers });
  const reloads = new Counter({ name: 'stateroute_config_reloads_total', help: 'Config reloads by result (success|failure).', labelNames: ['result'], registers });
  let queueSource: (() => number) | undefined;
  new Gauge({
    name: 'stateroute_ledger_queue_depth',
    help: 'Ledger records waiting to be written.',
    registers,
    collect() {
      this.set(queueSource ? queueSource() : 0);
    },
  });
  const ledgerFailures = new Counter({ name: 'stateroute_ledger_write_failures_total', help: 'Ledger records the sink failed to write (they were spilled, or lost if the spill failed too).', registers });
  const spilled = new Counter({ name: 'stateroute_ledger_spilled_total', help: 'Ledger records written to the local spill file because the queue was full or the sink failed.', registers });
  const unpriced = new Counter({ name: 'stateroute_unpriced_requests_total', help: 'Requests whose model has no price (cost unknown, tokens still counted).', labelNames: ['backend', 'model'], registers });

  for (const result of ['success', 'failure']) reloads.inc({ result }, 0);
  ledgerFailures.inc(0);
  spilled.inc(0);

  // The label objects and counter series of one combination of (already bounded) label values,
  // built once and reused: a request then allocates none. Bounded by the label caps; cleared if it
  // ever grows past them (the counts live in the counters' cells, which a clear does not touch).
  const seriesCache = new PathMap<RequestSeries>();
  const requestSeries = (
    routeL: string, ruleL: string, b: string, statusL: string, op: string, prov: string, reqModel: string, resModel: string, model: string, err: string, kind: string,
  ): RequestSeries => {
    const key = [routeL, ruleL, b, statusL, op, prov, reqModel, resModel, model, err, kind];
    let s = seriesCache.get(key);
    if (s) return s;
    const gen = { gen_ai_operation_name: op, gen_ai_provider_name: prov, gen_ai_request_model: reqModel, gen_ai_response_model: resModel };
    const cost = (k: string) => ({ key: `${b}\0${model}\0${k}`, labels: { backend: b, model, kind: k } });
    const l: SeriesLabels = {
      request: { route: routeL, rule: ruleL, backend: b, status: statusL },
      gen,
      duration: { ...gen, error_type: err },
      info: { backend: b, kind, provider: prov },
      backend: { backend: b },
      inputTokens: { ...gen, gen_ai_token_type: 'input' },
      outputTokens: { ...gen, gen_ai_token_type: 'output' },
      tokens: {
        input: { backend: b, model, type: 'input' },
        output: { backend: b, model, type: 'output' },
        cache_read: { backend: b, model, type: 'cache_read' },
        cache_write: { backend: b, model, type: 'cache_write' },
      },
      model: { backend: b, model },
      actualCost: cost('actual'),
      counterfactualCost: cost('counterfactual'),
    };
    // The gauge is always 1: set once per combination rather than once per request.
    if (b) backendInfo.set(l.info, 1);
    s = { labels: l };
    if (seriesCache.size >= 50_000) seriesCache.clear();
    seriesCache.set(key, s);
    return s;
  };

  let exposition: (() => Promise<string>) | undefined;
  return {
    registry,
    contentType: registry.contentType,
    observeRequest(o, u, cost) {
      const b = backend.value(o.backend);
      const op = operation(o.operation);
      const prov = provider.value(o.provider);
      const reqModel = models.value(o.modelRequested);
      const resModel = models.value(o.modelAnswered ?? '');
      const model = models.value(o.modelAnswered || o.modelRequested);
      const err = errorType.value(o.errorType);
      const s = requestSeries(route.value(o.route), rule.value(o.rule), b, status(o.status), op, prov, reqModel, resModel, model, err, o.kind);
      const l = s.labels;
      (s.requests ??= requests.cell(l.request)).pending += 1;
      opDuration.observe((s.opDuration ??= opDuration.cell(l.duration)), o.durationMs / 1000);
      if (o.ttftMs !== undefined) ttfc.observe((s.ttfc ??= ttfc.cell(l.gen)), o.ttftMs / 1000);
      if (b) {
        requestDuration.observe((s.requestDuration ??= requestDuration.cell(l.backend)), o.durationMs / 1000);
        if (o.ttftMs !== undefined) timeToFirstToken.observe((s.timeToFirstToken ??= timeToFirstToken.cell(l.backend)), o.ttftMs / 1000);
      }
      if (o.upstreamMs !== undefined) overhead.observe((s.overhead ??= overhead.cell(l.backend)), Math.max(0, o.durationMs - o.upstreamMs) / 1000);
      if (err && b && (o.errorSource ?? 'upstream') === 'upstream') upstreamErrors.inc({ backend: b, error_type: err });
      if (u) {
        tokenUsage.observe((s.inputTokens ??= tokenUsage.cell(l.inputTokens)), u.input + u.cacheRead + u.cacheWrite);
        tokenUsage.observe((s.outputTokens ??= tokenUsage.cell(l.outputTokens)), u.output);
        const t = (s.tokens ??= {
          input: tokens.cell(l.tokens.input),
          output: tokens.cell(l.tokens.output),
          cache_read: tokens.cell(l.tokens.cache_read),
          cache_write: tokens.cell(l.tokens.cache_write),
        });
        t.input.pending += u.input;
        t.output.pending += u.output;
        t.cache_read.pending += u.cacheRead;
        t.cache_write.pending += u.cacheWrite;
        if (cost?.actual === undefined) unpriced.inc(l.model);
      }
      if (cost?.actual !== undefined) (s.actualCost ??= costTotal(l.actualCost)).pico += cost.actual;
      if (cost?.counterfactual !== undefined) (s.counterfactualCost ??= costTotal(l.counterfactualCost)).pico += cost.counterfactual;
    },
    attemptFailed: (l) => upstreamErrors.inc({ backend: backend.value(l.backend), error_type: errorType.value(l.errorType) || OTHER }),
    retry: (l) => retries.inc({ backend: backend.value(l.backend) }),
    fallback: (l) => fallbacks.inc({ route: route.value(l.route), from: backend.value(l.from), to: backend.value(l.to) }),
    configReload: (result) => reloads.inc({ result }),
    setActiveSessionsSource(source) {
      activeSource = source;
    },
    sessionEnded: (turns) => sessionTurns.observe(turns),
    setLedgerQueueDepthSource(source) {
      queueSource = source;
    },
    ledgerWriteFailed: (n) => ledgerFailures.inc(n),
    ledgerSpilled: (n) => spilled.inc(n),
    setKnownModels: (m) => models.set(m),
    metrics: () => (exposition ? exposition() : registry.metrics()),
    setExposition(source) {
      exposition = source;
    },
  };
}
