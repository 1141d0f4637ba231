// Stub: the Bedrock Converse backend lands with issue #4.
import type { BackendFactory } from '../types.js';
import { bedrockConfigSchema } from './config.js';

export const bedrockBackend: BackendFactory<typeof bedrockConfigSchema> = {
  type: 'bedrock',
  kind: 'stateful',
  configSchema: bedrockConfigSchema,
  create() {
    throw new Error('bedrock backend not implemented yet');
  },
};
