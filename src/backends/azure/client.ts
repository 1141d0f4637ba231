// The SDK clients. Azure is "OpenAI plus a path and auth rewrite": the deployments surface uses
// AzureOpenAI (/openai/deployments/{model}/…?api-version=…, `api-key` header), the v1 surface and
// any OpenAI-compatible server use the plain OpenAI client with a base URL.
// https://learn.microsoft.com/azure/ai-services/openai/api-version-lifecycle (v1 surface)
import OpenAI, { AzureOpenAI } from 'openai';
import type { AzureOpenAIConfig, OpenAICompatibleConfig } from './config.js';
import { sdkTransport } from './connect.js';
import { rawChat, type RawChat } from './raw.js';

/** Options every client gets: no retries (they live outside backends), no environment lookups
 * (config is the only input), no SDK logging (the backend logs with the request's logger), and
 * connections made within `connectMs` (connect.ts). */
const common = (timeoutMs: number, connectMs: number) =>
  ({
    ...sdkTransport(connectMs),
    maxRetries: 0,
    timeout: timeoutMs,
    organization: null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    logLevel: 'off',
  }) as const;

const trimSlash = (url: string) => url.replace(/\/+$/, '');

export function azureClient(config: AzureOpenAIConfig, connectMs: number): OpenAI {
  const base = `${trimSlash(config.endpoint)}/openai`;
  if (config.surface === 'v1')
    return new OpenAI({
      ...common(config.timeoutMs, connectMs),
      baseURL: `${base}/v1`,
      apiKey: config.apiKey,
      // Azure keys go in `api-key`; drop the bearer header the OpenAI client would add.
      defaultHeaders: { 'api-key': config.apiKey, Authorization: null },
    });
  // baseURL rather than endpoint, so OPENAI_BASE_URL in the environment cannot interfere.
  return new AzureOpenAI({ ...common(config.timeoutMs, connectMs), baseURL: base, apiKey: config.apiKey, apiVersion: config.apiVersion });
}

export const openAICompatibleClient = (config: OpenAICompatibleConfig, connectMs: number): OpenAI =>
  new OpenAI({ ...common(config.timeoutMs, connectMs), baseURL: config.baseURL, apiKey: config.apiKey });

/** The same wire as azureClient, for chat completions without the SDK (raw.ts). */
export function azureRawChat(config: AzureOpenAIConfig, connectMs: number): RawChat {
  const base = `${trimSlash(config.endpoint)}/openai`;
  const url =
    config.surface === 'v1'
      ? () => `${base}/v1/chat/completions`
      : (deployment: string) => `${base}/deployments/${encodeURIComponent(deployment)}/chat/completions?api-version=${encodeURIComponent(config.apiVersion ?? '')}`;
  return rawChat({ url, headers: { 'api-key': config.apiKey }, timeoutMs: config.timeoutMs, connectMs });
}

export const openAICompatibleRawChat = (config: OpenAICompatibleConfig, connectMs: number): RawChat =>
  rawChat({ url: () => `${trimSlash(config.baseURL)}/chat/completions`, headers: { authorization: `Bearer ${config.apiKey}` }, timeoutMs: config.timeoutMs, connectMs });
