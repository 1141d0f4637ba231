// One measurement per request, finished exactly once at the request's end whatever the outcome
// (success, upstream error, client disconnect), then handed to the meter.
import type { Backend, Usage } from '../backends/types.js';
import type { Meter } from '../metering/meter.js';
import type { RouteDecision } from '../routing/compile.js';

export interface MeasureStart {
  requestId: string;
  tenant: string;
  operation: 'chat' | 'embeddings' | 'responses';
  modelRequested: string;
  stream: boolean;
  sessionId?: string;
}

export interface MeasureEnd {
  status: number;
  usage?: Usage | undefined;
  modelAnswered?: string | undefined;
  errorType?: string | undefined;
  usageEstimated?: boolean;
  /** Who failed, so only upstream failures count as upstream errors. */
  errorSource?: 'upstream' | 'gateway' | 'client' | undefined;
}

export class RequestMeasure {
  private readonly startedAt = Date.now();
  private readonly t0 = performance.now();
  private upstreamStart: number | undefined;
  private upstreamMs = 0;
  private firstChunkAt: number | undefined;
  private done = false;

  constructor(
    private readonly meter: Meter,
    private readonly start: MeasureStart,
    private decision?: RouteDecision,
    private backend?: Backend,
  ) {}

  /** For handlers that start measuring before the request is routed (so invalid requests are metered too). */
  routed(decision: RouteDecision, backend: Backend): void {
    this.decision = decision;
    this.backend = backend;
  }

  upstreamCalled(): void {
    this.upstreamStart = performance.now();
  }

  /** Upstream answered headers (non-stream: the whole body). */
  upstreamAnswered(): void {
    if (this.upstreamStart !== undefined) this.upstreamMs += performance.now() - this.upstreamStart;
    this.upstreamStart = undefined;
  }

  firstChunk(): void {
    this.firstChunkAt ??= performance.now();
  }

  /** Time spent waiting on the upstream while streaming (between pulls), so gateway overhead excludes it. */
  addUpstreamWait(ms: number): void {
    this.upstreamMs += ms;
  }

  get finished(): boolean {
    return this.done;
  }

  finish(end: MeasureEnd): void {
    if (this.done) return;
    this.done = true;
    this.upstreamAnswered();
    const durationMs = performance.now() - this.t0;
    this.meter.record({
      requestId: this.start.requestId,
      startedAt: this.startedAt,
      tenant: this.start.tenant,
      route: this.decision?.route ?? 'none',
      rule: this.decision?.rule ?? 'none',
      backend: this.backend?.name ?? '',
      provider: this.backend?.provider ?? '',
      kind: this.decision?.kind ?? 'none',
      operation: this.start.operation,
      modelRequested: this.start.modelRequested,
      modelAnswered: end.modelAnswered,
      usage: end.usage,
      status: end.status,
      errorType: end.errorType,
      errorSource: end.errorSource,
      usageEstimated: end.usageEstimated,
      durationMs,
      ttftMs: this.firstChunkAt === undefined ? undefined : this.firstChunkAt - this.t0,
      upstreamMs: this.upstreamMs,
      sessionId: this.start.sessionId,
      stream: this.start.stream,
    });
  }
}
