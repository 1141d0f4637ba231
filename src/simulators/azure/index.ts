// Azure OpenAI simulator: a small HTTP server speaking Azure's wire format, for the demo and tests.
//
//   const sim = await startAzureSimulator({ apiKey: 'k', deployments: { chat: 'gpt-4o-2024-08-06' } });
//   new AzureOpenAI({ endpoint: sim.url, apiKey: 'k', apiVersion: '2024-10-21' });
//   sim.faults.push({ ...azureErrors.rateLimited(6) });          // next request: 429 + retry-after
//   sim.faults.push({ cutAfterChunks: 3, resetConnection: true }); // next stream: 3 events, then a reset
//   await sim.close();
export { startAzureSimulator, type AzureSimulator, type AzureSimulatorOptions, type RecordedRequest } from './server.js';
export type { Fault, FaultQueue } from './faults.js';
export { CONTENT_FILTER_TRIGGER, countPromptTokens } from './completion.js';
export { azureErrors, type AzureErrorReply } from './wire.js';
