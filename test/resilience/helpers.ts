// Shared pieces of the failure-handling tests: a fast policy, a call context, and a consumer that
// reads a result the way the SSE writer does.
import { batchesOf, type CallContext, type ChatCall, type ChatResult } from '../../src/backends/types.js';
import { resilienceSchema, type ResilienceConfig } from '../../src/config/resilience.js';
import { createLogger } from '../../src/logger.js';
import type { ResilienceTarget } from '../../src/resilience/call.js';
import { FakeBackend } from '../helpers/fake-backend.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Small delays so the suite stays fast; anything time-related the test cares about is overridden. */
export function fastPolicy(overrides: DeepPartial<ResilienceConfig> = {}): ResilienceConfig {
  return resilienceSchema.parse({
    timeouts: { headersMs: 2_000, responseMs: 2_000, firstTokenMs: 2_000, idleMs: 2_000, totalMs: 10_000, ...overrides.timeouts },
    retries: {
      maxAttempts: 3,
      baseDelayMs: 5,
      maxDelayMs: 20,
      ...overrides.retries,
      budget: { ratio: 0.2, minPerWindow: 100, windowMs: 10_000, ...overrides.retries?.budget },
    },
    breaker: { consecutiveFailures: 100, cooldownMs: 1_000, probeIntervalMs: 500, ...overrides.breaker },
  });
}

const logger = createLogger({ level: 'silent' });

export function context(signal: AbortSignal = new AbortController().signal): CallContext {
  return { requestId: 'req_test', tenant: 'acme', signal, logger };
}

export const question = [{ role: 'user', content: 'Say something.' }];

export function callFor(stream: boolean) {
  return (target: ResilienceTarget): ChatCall => ({
    body: { model: 'gpt-4o', messages: question, stream },
    model: target.model ?? 'gpt-4o',
    stream,
    clientWantsStreamUsage: false,
  });
}

export function targets(...list: [FakeBackend, { model?: string; acceptsPrefill?: boolean }?][]): ResilienceTarget[] {
  return list.map(([backend, t]) => ({ backend, model: t?.model, acceptsPrefill: t?.acceptsPrefill ?? false }));
}

export function fakes() {
  return { primary: new FakeBackend('primary'), fallback: new FakeBackend('fallback'), third: new FakeBackend('third') };
}

/** Reads a result like the SSE writer: the text of choice 0, every chunk, and the error if it threw. */
export async function consume(result: ChatResult): Promise<{ text: string; chunks: Record<string, any>[]; error?: any }> {
  if (result.type === 'json') return { text: (result.body as any).choices[0].message.content, chunks: [] };
  const chunks: Record<string, any>[] = [];
  try {
    for await (const batch of batchesOf(result)) for (const chunk of batch) chunks.push(JSON.parse(chunk.json));
  } catch (error) {
    return { text: textOf(chunks), chunks, error };
  }
  return { text: textOf(chunks), chunks };
}

const textOf = (chunks: Record<string, any>[]) => chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
