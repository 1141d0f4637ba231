import type { BackendKind } from '../../backends/types.js';

/** One line of the usage ledger: one request, written when it ends (success, error or disconnect). */
export interface LedgerRecord {
  requestId: string;
  /** Request start, ISO 8601 UTC. */
  time: string;
  tenant: string;
  route: string;
  rule: string;
  backend: string;
  /** OTel gen_ai.provider.name of the backend. */
  provider: string;
  /** 'none': the request failed before it was routed. */
  kind: BackendKind | 'none';
  operation: string;
  modelRequested: string;
  /** The model that actually answered; null when no upstream answered. */
  modelAnswered: string | null;
  stream: boolean;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number; reasoning: number };
  /** USD, exact to 1e-12; null when the model has no price (never 0 for unknown). */
  costUsd: number | null;
  /** USD on the other backend's equivalent model; null without an equivalent or its price. */
  counterfactualCostUsd: number | null;
  counterfactualModel: string | null;
  /** Milliseconds, rounded to the microsecond (as are ttftMs and upstreamMs). */
  latencyMs: number;
  ttftMs: number | null;
  upstreamMs: number | null;
  status: number;
  errorType: string | null;
  /** Salted SHA-256 of tenant and session id (hex, 32 chars); null without a session. */
  sessionHash: string | null;
  /** Present and true when the upstream never reported usage (the client left mid-stream, the stream
   * was cut) and the tokens are the gateway's estimate: prompt characters / 4, one token per chunk. */
  usageEstimated?: boolean;
}

export interface LedgerHooks {
  /** Records that went to the spill file instead of the sink. */
  onSpill?(records: number): void;
  /** Records the sink failed to write (spilled afterwards, or lost when the spill failed too). */
  onWriteFailure?(records: number): void;
  /** After each durable batch (written and fsync'd): for tests and diagnostics. */
  onFlush?(info: { records: number; lastRequestId: string | undefined; at: number }): void;
}

export interface LedgerSink {
  /** Never throws and never waits: queues the record, or spills it when the queue is full. */
  write(record: LedgerRecord): void;
  /** Write everything queued so far, durably. */
  flush(): Promise<void>;
  /** Flush and release files and connections; later writes go straight to the spill file. */
  close(): Promise<void>;
  queueDepth(): number;
}
