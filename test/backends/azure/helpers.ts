import { pino } from 'pino';
import { azureOpenAIBackend, openAICompatibleBackend } from '../../../src/backends/azure/index.js';
import { batchesOf, type Backend, type CallContext, type ChatBody, type ChatCall, type StreamChunk, type StreamResult } from '../../../src/backends/types.js';

export const API_KEY = 'backend-test-key';
export const logger = pino({ level: 'silent' });

export function ctx(signal: AbortSignal = new AbortController().signal): CallContext {
  return { requestId: 'req-1', tenant: 't1', signal, logger };
}

export function azure(config: Record<string, unknown>, connectMs = 5_000): Backend {
  const parsed = azureOpenAIBackend.configSchema.parse({ type: 'azure-openai', apiKey: API_KEY, apiVersion: '2024-10-21', ...config });
  return azureOpenAIBackend.create({ name: 'azure-test', config: parsed, logger, connectMs });
}

export function compatible(config: Record<string, unknown>): Backend {
  const parsed = openAICompatibleBackend.configSchema.parse({ type: 'openai-compatible', apiKey: API_KEY, ...config });
  return openAICompatibleBackend.create({ name: 'compat-test', config: parsed, logger, connectMs: 5_000 });
}

export function chatCall(content: string, options: { model?: string; stream?: boolean; clientUsage?: boolean; extra?: Record<string, unknown> } = {}): ChatCall {
  const model = options.model ?? 'gpt-4o';
  const body: ChatBody = { model, messages: [{ role: 'user', content }], ...options.extra };
  if (options.stream) {
    body.stream = true;
    if (options.clientUsage) body.stream_options = { include_usage: true };
  }
  return { body, model, stream: options.stream ?? false, clientWantsStreamUsage: options.clientUsage ?? false };
}

export async function drain(result: StreamResult): Promise<{ chunks: StreamChunk[]; error: unknown }> {
  const chunks: StreamChunk[] = [];
  try {
    for await (const batch of batchesOf(result)) chunks.push(...batch);
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

export const contentOf = (chunks: StreamChunk[]): string =>
  chunks
    .map((c) => {
      const value = JSON.parse(c.json) as { choices: { delta?: { content?: string } }[] };
      return value.choices[0]?.delta?.content ?? '';
    })
    .join('');

export function asStream(result: Awaited<ReturnType<Backend['chat']>>): StreamResult {
  if (result.type !== 'stream') throw new Error(`expected a stream, got ${result.type}`);
  return result;
}
