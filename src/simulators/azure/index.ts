export { startAzureSimulator, type AzureSimulator, type AzureSimulatorOptions, type RecordedRequest } from './server.js';
export type { Fault } from './faults.js';
export { CONTENT_FILTER_TRIGGER, countPromptTokens } from './completion.js';
export { azureErrors } from './wire.js';
