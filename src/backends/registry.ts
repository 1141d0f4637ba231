// Every backend type the config may name. Adding a backend = a new folder + one line here;
// nothing else in shared code learns its name.
import { azureOpenAIBackend, openAICompatibleBackend } from './azure/index.js';
import { bedrockBackend } from './bedrock/index.js';
import type { BackendFactory, BackendKind } from './types.js';

export const backendFactories = [azureOpenAIBackend, openAICompatibleBackend, bedrockBackend] as const;

const byType = new Map<string, BackendFactory>(backendFactories.map((f) => [f.type, f as unknown as BackendFactory]));

export function backendFactory(type: string): BackendFactory {
  const factory = byType.get(type);
  if (!factory) throw new Error(`unknown backend type "${type}"; known: ${[...byType.keys()].join(', ')}`);
  return factory;
}

export const backendKindOf = (type: string): BackendKind => backendFactory(type).kind;
