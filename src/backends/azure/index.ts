// Stub: the Azure OpenAI backend lands with issue #2.
import type { BackendFactory } from '../types.js';
import { azureOpenAIConfigSchema, openAICompatibleConfigSchema } from './config.js';

export const azureOpenAIBackend: BackendFactory<typeof azureOpenAIConfigSchema> = {
  type: 'azure-openai',
  kind: 'stateless',
  configSchema: azureOpenAIConfigSchema,
  create() {
    throw new Error('azure-openai backend not implemented yet');
  },
};

export const openAICompatibleBackend: BackendFactory<typeof openAICompatibleConfigSchema> = {
  type: 'openai-compatible',
  kind: 'stateless',
  configSchema: openAICompatibleConfigSchema,
  create() {
    throw new Error('openai-compatible backend not implemented yet');
  },
};
