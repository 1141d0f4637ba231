// STUB until the metering branch lands.
import type { Logger } from 'pino';
import type { Usage } from '../backends/types.js';
import type { MeteringConfig } from '../config/metering.js';
export interface MeterInput { requestId: string; startedAt: number; tenant: string; route: string; rule: string; backend: string; provider: string; kind: string; operation: string; modelRequested: string; modelAnswered?: string; usage?: Usage; status: number; errorType?: string; durationMs: number; ttftMs?: number; upstreamMs?: number; sessionId?: string; stream: boolean }
export interface Meter { record(input: MeterInput): void; close(): Promise<void>; metrics: { registry: { metrics(): Promise<string>; contentType: string } } }
export function createMeter(_o: { config: MeteringConfig; logger: Logger; knownModels: string[] }): Meter {
  return { record() {}, async close() {}, metrics: { registry: { async metrics() { return ''; }, contentType: 'text/plain' } } };
}
