// Azure OpenAI and OpenAI-compatible upstreams: one implementation (backend.ts), two config types.
import type { BackendFactory } from '../types.js';
import { createOpenAIStyleBackend } from './backend.js';
import { azureClient, azureRawChat, openAICompatibleClient, openAICompatibleRawChat } from './client.js';
import { azureOpenAIConfigSchema, openAICompatibleConfigSchema } from './config.js';

export const azureOpenAIBackend: BackendFactory<typeof azureOpenAIConfigSchema> = {
  type: 'azure-openai',
  kind: 'stateless',
  configSchema: azureOpenAIConfigSchema,
  create: ({ name, config, connectMs }) =>
    createOpenAIStyleBackend({
      name,
      provider: 'azure.ai.openai',
      client: azureClient(config, connectMs),
      models: config.deployments,
      raw: config.transport === 'passthrough' ? azureRawChat(config, connectMs) : undefined,
    }),
};

export const openAICompatibleBackend: BackendFactory<typeof openAICompatibleConfigSchema> = {
  type: 'openai-compatible',
  kind: 'stateless',
  configSchema: openAICompatibleConfigSchema,
  create: ({ name, config, connectMs }) =>
    createOpenAIStyleBackend({
      name,
      provider: 'openai',
      client: openAICompatibleClient(config, connectMs),
      models: config.models,
      raw: config.transport === 'passthrough' ? openAICompatibleRawChat(config, connectMs) : undefined,
    }),
};
